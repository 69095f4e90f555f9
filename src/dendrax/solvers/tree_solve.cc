// dendrax's compiled tree solve: an XLA FFI handler (see native_tree.py).
#include <cstdint>
#include <cstring>
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

// Hines elimination in the order of `nodes`, then back-substitution in reverse order.
// `schedule` holds three int32 rows of n entries: `nodes` (the elimination order, deepest
// first), `parents` (the parent of `nodes[i]` in the order's rooting; a root names itself)
// and `flipped` (1 where that rooting reverses the matrix's own edge: the order may re-root
// a tree at another node to shorten its longest path, and an edge whose child is the
// matrix's parent reads its couplings from the other end). The first `n_inner` entries of
// `nodes` have a parent. Couplings of node j to its matrix parent: A[j, parent] = upper[j],
// A[parent, j] = lower[j]; roots' entries are never read. `x` receives the solution; `work`
// (2n) keeps the reciprocal pivots and the couplings of each step for the back-substitution.
template <ffi::DataType T>
static ffi::Error Solve(ffi::Buffer<T> diag, ffi::Buffer<T> upper, ffi::Buffer<T> lower,
                        ffi::Buffer<T> rhs, ffi::Buffer<ffi::S32> schedule, int64_t n_inner,
                        ffi::ResultBuffer<T> x, ffi::ResultBuffer<T> work) {
  using V = ffi::NativeType<T>;
  const int64_t n = static_cast<int64_t>(diag.element_count());
  if (static_cast<int64_t>(schedule.element_count()) != 3 * n || n_inner > n ||
      static_cast<int64_t>(work->element_count()) != 2 * n) {
    return ffi::Error::InvalidArgument("dendrax tree solve: inconsistent schedule sizes");
  }
  const V* u = upper.typed_data();
  const V* l = lower.typed_data();
  const int32_t* node = schedule.typed_data();
  const int32_t* parent = node + n;
  const int32_t* flipped = node + 2 * n;
  V* d = work->typed_data();
  V* coupling = d + n;  // A[nodes[i], parents[i]] of step i
  V* b = x->typed_data();
  std::memcpy(d, diag.typed_data(), sizeof(V) * n);
  std::memcpy(b, rhs.typed_data(), sizeof(V) * n);
  for (int64_t i = 0; i < n_inner; ++i) {
    const int32_t j = node[i], p = parent[i];
    const bool flip = flipped[i] != 0;
    const V to_parent = flip ? l[p] : u[j];  // A[j, p]
    const V from_parent = flip ? u[p] : l[j];  // A[p, j]
    const V inv = V(1) / d[j];
    const V f = from_parent * inv;
    d[j] = inv;
    coupling[i] = to_parent;
    d[p] -= f * to_parent;
    b[p] -= f * b[j];
  }
  for (int64_t i = n_inner; i < n; ++i) {
    d[node[i]] = V(1) / d[node[i]];
    coupling[i] = V(0);
  }
  for (int64_t i = n - 1; i >= 0; --i) {
    const int32_t j = node[i], p = parent[i];
    b[j] = (b[j] - coupling[i] * b[p]) * d[j];
  }
  return ffi::Error::Success();
}

#define DENDRAX_BIND(T)                                     \
  ffi::Ffi::Bind()                                          \
      .Arg<ffi::Buffer<T>>()                                \
      .Arg<ffi::Buffer<T>>()                                \
      .Arg<ffi::Buffer<T>>()                                \
      .Arg<ffi::Buffer<T>>()                                \
      .Arg<ffi::Buffer<ffi::S32>>()                         \
      .Attr<int64_t>("n_inner")                             \
      .Ret<ffi::Buffer<T>>()                                \
      .Ret<ffi::Buffer<T>>()

XLA_FFI_DEFINE_HANDLER_SYMBOL(DendraxTreeSolveF64, Solve<ffi::F64>, DENDRAX_BIND(ffi::F64));
XLA_FFI_DEFINE_HANDLER_SYMBOL(DendraxTreeSolveF32, Solve<ffi::F32>, DENDRAX_BIND(ffi::F32));
