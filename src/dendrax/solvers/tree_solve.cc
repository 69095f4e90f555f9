// dendrax's compiled tree solve: an XLA FFI handler (see native_tree.py).
#include <cstdint>
#include <cstring>
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

// Hines elimination in the order of `nodes` (deepest first; `parents[i]` the parent of
// `nodes[i]`, a root names itself), then back-substitution in reverse order. The first
// `n_inner` entries are the nodes with a parent. `x` receives the solution.
template <ffi::DataType T>
static ffi::Error Solve(ffi::Buffer<T> diag, ffi::Buffer<T> upper, ffi::Buffer<T> lower,
                        ffi::Buffer<T> rhs, ffi::Buffer<ffi::S32> nodes,
                        ffi::Buffer<ffi::S32> parents, int64_t n_inner,
                        ffi::ResultBuffer<T> x, ffi::ResultBuffer<T> work) {
  using V = ffi::NativeType<T>;
  const int64_t n = static_cast<int64_t>(diag.element_count());
  const int64_t n_elim = static_cast<int64_t>(nodes.element_count());
  if (n_elim != n || static_cast<int64_t>(parents.element_count()) != n || n_inner > n) {
    return ffi::Error::InvalidArgument("dendrax tree solve: inconsistent schedule sizes");
  }
  const V* u = upper.typed_data();
  const V* l = lower.typed_data();
  const int32_t* node = nodes.typed_data();
  const int32_t* parent = parents.typed_data();
  V* d = work->typed_data();
  V* b = x->typed_data();
  std::memcpy(d, diag.typed_data(), sizeof(V) * n);
  std::memcpy(b, rhs.typed_data(), sizeof(V) * n);
  // `work` keeps the reciprocal pivots: the back-substitution multiplies by them.
  for (int64_t i = 0; i < n_inner; ++i) {
    const int32_t j = node[i], p = parent[i];
    const V inv = V(1) / d[j];
    const V f = l[j] * inv;
    d[j] = inv;
    d[p] -= f * u[j];
    b[p] -= f * b[j];
  }
  for (int64_t i = n_inner; i < n_elim; ++i) d[node[i]] = V(1) / d[node[i]];
  for (int64_t i = n_elim - 1; i >= 0; --i) {
    const int32_t j = node[i], p = parent[i];
    b[j] = (b[j] - u[j] * b[p]) * d[j];
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
      .Arg<ffi::Buffer<ffi::S32>>()                         \
      .Attr<int64_t>("n_inner")                             \
      .Ret<ffi::Buffer<T>>()                                \
      .Ret<ffi::Buffer<T>>()

XLA_FFI_DEFINE_HANDLER_SYMBOL(DendraxTreeSolveF64, Solve<ffi::F64>, DENDRAX_BIND(ffi::F64));
XLA_FFI_DEFINE_HANDLER_SYMBOL(DendraxTreeSolveF32, Solve<ffi::F32>, DENDRAX_BIND(ffi::F32));
