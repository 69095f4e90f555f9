// dendrax's compiled tree solve: an XLA FFI handler (see native_tree.py).
#include <cstdint>
#include <cstring>
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

// The elimination and back-substitution of `Solve` (below), in place: `d` holds the
// diagonal and receives the reciprocal pivots, `b` holds the right-hand side and receives
// the solution, `coupling` (n) keeps each step's coupling for the back-substitution.
template <typename V>
static void Eliminate(int64_t n, int64_t n_inner, const V* u, const V* l,
                      const int32_t* schedule, V* d, V* coupling, V* b) {
  const int32_t* node = schedule;
  const int32_t* parent = node + n;
  const int32_t* flipped = node + 2 * n;
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
}

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
  V* d = work->typed_data();
  V* b = x->typed_data();
  std::memcpy(d, diag.typed_data(), sizeof(V) * n);
  std::memcpy(b, rhs.typed_data(), sizeof(V) * n);
  Eliminate(n, n_inner, upper.typed_data(), lower.typed_data(), schedule.typed_data(), d, d + n, b);
  return ffi::Error::Success();
}

// The right-hand side of the implicit system for the increment `v' - v` (see
// increment_solve.py), into `r` (n): `membrane` (n_comp) in the compartment rows, 0 in the
// branch points' (nodes n_comp..n-1), plus for every node j with matrix parent p = links[j]
// (roots name themselves; their u and l are 0) `-u[j] (v_p - v_j)` in row j and
// `l[j] (v_p - v_j)` in row p. Node voltages go to `nodes` (n): `v` for compartments,
// `v[links[n + k]]` for branch point n_comp + k; `diff` (n) receives v_p - v_j.
template <typename V>
static void FillIncrementRhs(int64_t n, int64_t n_comp, const V* v, const V* membrane,
                             const V* u, const V* l, const int32_t* links, V* r, V* nodes,
                             V* diff) {
  const int32_t* guess = links + n;
  std::memcpy(nodes, v, sizeof(V) * n_comp);
  for (int64_t k = n_comp; k < n; ++k) nodes[k] = v[guess[k - n_comp]];
  for (int64_t j = 0; j < n; ++j) diff[j] = nodes[links[j]] - nodes[j];
  for (int64_t j = 0; j < n_comp; ++j) r[j] = membrane[j] - u[j] * diff[j];
  for (int64_t j = n_comp; j < n; ++j) r[j] = -u[j] * diff[j];
  // The parents' rows last, so that no iteration above waits for another's store.
  for (int64_t j = 0; j < n; ++j) r[links[j]] += l[j] * diff[j];
}

// `FillIncrementRhs` then `Solve` in one call: `x` receives the increment `v' - v`.
template <ffi::DataType T>
static ffi::Error IncrementSolve(ffi::Buffer<T> diag, ffi::Buffer<T> upper, ffi::Buffer<T> lower,
                                 ffi::Buffer<T> membrane, ffi::Buffer<T> v,
                                 ffi::Buffer<ffi::S32> schedule, ffi::Buffer<ffi::S32> links,
                                 int64_t n_inner, ffi::ResultBuffer<T> x,
                                 ffi::ResultBuffer<T> work) {
  using V = ffi::NativeType<T>;
  const int64_t n = static_cast<int64_t>(diag.element_count());
  const int64_t n_comp = static_cast<int64_t>(v.element_count());
  if (static_cast<int64_t>(schedule.element_count()) != 3 * n || n_inner > n ||
      static_cast<int64_t>(work->element_count()) != 2 * n || n_comp > n ||
      static_cast<int64_t>(membrane.element_count()) != n_comp ||
      static_cast<int64_t>(links.element_count()) != 2 * n - n_comp) {
    return ffi::Error::InvalidArgument("dendrax increment solve: inconsistent sizes");
  }
  const V* u = upper.typed_data();
  const V* l = lower.typed_data();
  V* d = work->typed_data();
  V* b = x->typed_data();
  // Both halves of `work` are scratch until the elimination.
  FillIncrementRhs(n, n_comp, v.typed_data(), membrane.typed_data(), u, l, links.typed_data(), b,
                   d, d + n);
  std::memcpy(d, diag.typed_data(), sizeof(V) * n);
  Eliminate(n, n_inner, u, l, schedule.typed_data(), d, d + n, b);
  return ffi::Error::Success();
}

#define DENDRAX_INCREMENT_BIND(T)                           \
  ffi::Ffi::Bind()                                          \
      .Arg<ffi::Buffer<T>>()                                \
      .Arg<ffi::Buffer<T>>()                                \
      .Arg<ffi::Buffer<T>>()                                \
      .Arg<ffi::Buffer<T>>()                                \
      .Arg<ffi::Buffer<T>>()                                \
      .Arg<ffi::Buffer<ffi::S32>>()                         \
      .Arg<ffi::Buffer<ffi::S32>>()                         \
      .Attr<int64_t>("n_inner")                             \
      .Ret<ffi::Buffer<T>>()                                \
      .Ret<ffi::Buffer<T>>()

XLA_FFI_DEFINE_HANDLER_SYMBOL(DendraxIncrementSolveF64, IncrementSolve<ffi::F64>,
                              DENDRAX_INCREMENT_BIND(ffi::F64));
XLA_FFI_DEFINE_HANDLER_SYMBOL(DendraxIncrementSolveF32, IncrementSolve<ffi::F32>,
                              DENDRAX_INCREMENT_BIND(ffi::F32));

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
