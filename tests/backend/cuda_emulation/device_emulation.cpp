// The device emulation behind cuda_runtime.h, cublas_v2.h and cusolverDn.h here: tracked host
// memory for the device, Eigen for cuBLAS, LAPACK for cuSOLVER. Every call checks what the
// real library would reject (sizes, leading dimensions, handles) and what the real device would
// fault on (an operand outside its allocation, a host pointer where device memory belongs);
// a refused call is counted, described on stderr, and returns an error status.
#include "device_emulation.hpp"

#include <lapacke.h>
#include <sys/mman.h>

#include <Eigen/Dense>
#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cusolverDn.h"

namespace gpbo::cuda {

struct EmulatedStream {};
struct EmulatedMemPool {};
struct EmulatedBlas {
  cudaStream_t stream = nullptr;
};
struct EmulatedSolver {
  cudaStream_t stream = nullptr;
};
struct EmulatedSolverParams {};

namespace {

struct State {
  std::mutex mutex;
  std::map<std::uintptr_t, std::size_t> allocations;  // base -> bytes
  std::set<std::uintptr_t> unbacked;                  // bases of bookkeeping-only allocations
  std::size_t unbacked_threshold = SIZE_MAX;
  std::size_t device_memory = std::size_t{16} << 30;  // as a 16 GiB card (set_device_memory)
  std::size_t allocated = 0;                          // bytes of the live allocations
  std::size_t peak = 0;                               // the most of them since reset_peak_bytes
  std::set<const void*> handles;  // streams, pools, cuBLAS and cuSOLVER handles and params
  std::size_t refused = 0;
  std::string fault_at;  // inject_fault's call, until it runs
  bool faulted = false;  // every call fails until clear_faults()
  std::string info_at;   // inject_dev_info's call and value, until it runs
  int info_value = 0;
  bool recording = false;
  std::vector<std::string> recorded;
  // pause_at: the call, whether a thread waits there, whether it may go on.
  std::condition_variable pause_cv;
  std::string pause_call;
  bool paused = false;
  bool resumed = false;
};

State& state() {
  static State s;
  return s;
}

thread_local cudaError_t last_error = cudaSuccess;
thread_local int current_device = -1;

/// Counts and describes a refused call.
void refuse(const std::string& what) {
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    ++state().refused;
  }
  std::cerr << "[device emulation] refused: " << what << "\n";
}

/// Waits at `call` while a test holds it there (see pause_at).
void maybe_pause(const char* call) {
  std::unique_lock<std::mutex> lock(state().mutex);
  if (state().pause_call.empty() || state().pause_call != call) return;
  state().pause_call.clear();
  state().paused = true;
  state().pause_cv.notify_all();
  state().pause_cv.wait(lock, [] { return state().resumed; });
  state().paused = false;
  state().resumed = false;
}

/// Whether `call` fails as a faulted device (see inject_fault).
bool device_faulted(const char* call) {
  maybe_pause(call);
  bool hit = false;
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    if (!state().faulted && state().fault_at == call) {
      state().faulted = true;
      state().fault_at.clear();
    }
    hit = state().faulted;
  }
  if (hit) std::cerr << "[device emulation] " << call << ": the device has faulted\n";
  return hit;
}

cudaError_t fail(cudaError_t e, const std::string& what) {
  refuse(what);
  last_error = e;
  return e;
}

/// The live allocation [base, base + bytes) that p points into, under state().mutex; end()
/// when none.
std::map<std::uintptr_t, std::size_t>::const_iterator allocation_of(const void* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  auto it = state().allocations.upper_bound(a);
  if (it == state().allocations.begin()) return state().allocations.end();
  --it;
  return a < it->first + it->second ? it : state().allocations.end();
}

/// Whether [p, p + bytes) lies inside one live allocation (bytes = 0: p is inside one).
bool in_device(const void* p, std::size_t bytes) {
  std::lock_guard<std::mutex> lock(state().mutex);
  const auto it = allocation_of(p);
  if (it == state().allocations.end()) return false;
  return bytes <= it->first + it->second - reinterpret_cast<std::uintptr_t>(p);
}

/// Whether p points into a bookkeeping-only allocation (set_unbacked_threshold).
bool unbacked(const void* p) {
  std::lock_guard<std::mutex> lock(state().mutex);
  const auto it = allocation_of(p);
  return it != state().allocations.end() && state().unbacked.count(it->first) > 0;
}

/// Records a call for recorded_calls(), when recording.
void record(const char* call, std::int64_t n, std::int64_t second, const char* second_name) {
  std::lock_guard<std::mutex> lock(state().mutex);
  if (!state().recording) return;
  state().recorded.push_back(std::string(call) + " n=" + std::to_string(n) + " " + second_name +
                             "=" + std::to_string(second));
}

/// Whether inject_dev_info aimed at `call`; then *info receives its value.
bool injected_dev_info(const char* call, int* info) {
  std::lock_guard<std::mutex> lock(state().mutex);
  if (state().info_at.empty() || state().info_at != call) return false;
  state().info_at.clear();
  *info = state().info_value;
  return true;
}

/// A stream or handle of device 0 (the only one) used on a thread where it is not current:
/// on a GPU, the work would go to whichever device is (the runtime picks device 0 for a thread
/// that never chose one; the emulation counts that as none, so that a missing cudaSetDevice is
/// seen on the one device it has).
bool wrong_device(const char* call) {
  if (current_device == 0) return false;
  refuse(std::string(call) + ": device 0 is not current on this thread (cudaSetDevice missing)");
  return true;
}

bool live_handle(const void* h) {
  std::lock_guard<std::mutex> lock(state().mutex);
  return h != nullptr && state().handles.count(h) > 0;
}

template <typename H>
void add_handle(H* h) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().handles.insert(h);
}

template <typename H>
bool remove_handle(H* h) {
  std::lock_guard<std::mutex> lock(state().mutex);
  return state().handles.erase(h) > 0;
}

std::string hex(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

bool device_stream(cudaStream_t s, const char* call) {
  if (device_faulted(call)) {
    last_error = cudaErrorIllegalAddress;
    return false;
  }
  if (!live_handle(s)) {
    fail(cudaErrorInvalidResourceHandle,
         std::string(call) + ": stream " + hex(s) + " was never created or is destroyed");
    return false;
  }
  if (wrong_device(call)) {
    last_error = cudaErrorInvalidResourceHandle;
    return false;
  }
  return true;
}

/// Checks one side of a copy: device memory for a device side, anything else for a host side.
bool copy_side(const void* p, std::size_t bytes, bool device, const char* call, const char* side) {
  if (device && unbacked(p)) {
    fail(cudaErrorInvalidValue, std::string(call) + ": " + side + " " + hex(p) +
                                    " is a bookkeeping-only allocation, with nothing to copy");
    return false;
  }
  if (device ? in_device(p, bytes) : !in_device(p, 0)) return true;
  fail(cudaErrorInvalidValue, std::string(call) + ": " + side + " " + hex(p) + " (" +
                                  std::to_string(bytes) + " bytes) is " +
                                  (device ? "not inside one device allocation" : "device memory"));
  return false;
}

// ---------------------------------------------------------------- library handles

/// cublasCreate / cusolverDnCreate: a handle, once a device is current.
template <typename H, typename Status>
Status create_handle(H** handle, const char* call, Status ok, Status not_initialized) {
  if (device_faulted(call)) return not_initialized;
  if (current_device != 0 || handle == nullptr) {
    refuse(std::string(call) + " before cudaSetDevice, or without an out pointer");
    return not_initialized;
  }
  *handle = new H;
  add_handle(*handle);
  return ok;
}

template <typename H, typename Status>
Status destroy_handle(H* handle, const char* call, Status ok, Status not_initialized) {
  if (!remove_handle(handle)) {
    refuse(std::string(call) + ": unknown handle");
    return not_initialized;
  }
  delete handle;
  return ok;
}

template <typename H, typename Status>
Status set_stream(H* handle, cudaStream_t stream, const char* call, Status ok,
                  Status not_initialized) {
  if (device_faulted(call)) return not_initialized;
  if (!live_handle(handle) || !live_handle(stream)) {
    refuse(std::string(call) + ": unknown handle or stream");
    return not_initialized;
  }
  handle->stream = stream;
  return ok;
}

// ---------------------------------------------------------------- cuBLAS helpers

template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <typename T>
using MapMat = Eigen::Map<Mat<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using ConstMapMat = Eigen::Map<const Mat<T>, 0, Eigen::OuterStride<>>;

/// Argument checks of one library call; the first failure is reported.
class Checks {
 public:
  explicit Checks(const char* call) : call_(call) {}

  /// A rows x cols operand with leading dimension ld in device memory.
  template <typename T>
  Checks& matrix(const char* name, const T* p, std::int64_t rows, std::int64_t cols,
                 std::int64_t ld) {
    if (!ok_) return *this;
    if (rows < 0 || cols < 0 || ld < std::max<std::int64_t>(1, rows)) {
      return bad(std::string(name) + ": rows " + std::to_string(rows) + ", cols " +
                     std::to_string(cols) + ", ld " + std::to_string(ld),
                 true);
    }
    if (rows == 0 || cols == 0) return *this;
    const std::size_t extent = (std::size_t(cols) - 1) * ld + rows;
    if (!in_device(p, extent * sizeof(T))) {
      return bad(std::string(name) + " (" + std::to_string(rows) + " x " + std::to_string(cols) +
                     ", ld " + std::to_string(ld) + ") at " + hex(p) +
                     " is not inside one device allocation",
                 false);
    }
    return *this;
  }
  template <typename T>
  Checks& vector(const char* name, const T* p, int n, int inc) {
    if (!ok_) return *this;
    if (inc != 1) return bad(std::string(name) + ": only unit strides are emulated", true);
    return matrix(name, p, n, 1, std::max(1, n));
  }
  /// Host memory of at least `bytes` (none needed when 0).
  Checks& host_buffer(const char* name, const void* p, std::size_t bytes) {
    if (!ok_ || bytes == 0) return *this;
    if (p == nullptr || in_device(p, 0)) {
      return bad(std::string(name) + " (" + std::to_string(bytes) + " bytes) must be host memory",
                 true);
    }
    return *this;
  }
  /// A scalar in host memory (cuBLAS's default pointer mode).
  Checks& host_scalar(const char* name, const void* p) {
    if (!ok_) return *this;
    if (p == nullptr || in_device(p, 0)) {
      return bad(std::string(name) + " must be a host pointer in the default pointer mode", true);
    }
    return *this;
  }
  Checks& require(bool cond, const std::string& what) {
    if (ok_ && !cond) bad(what, true);
    return *this;
  }
  template <typename H>
  Checks& handle(const H* h) {
    if (ok_ && device_faulted(call_)) {
      ok_ = false;  // a failed execution, not a refusal
      return *this;
    }
    if (ok_ && !live_handle(h)) return bad("handle not created or destroyed", false);
    if (ok_ && !live_handle(h->stream)) return bad("the handle's stream is not set", false);
    if (ok_ && current_device != 0) {
      return bad("device 0 is not current on this thread (cudaSetDevice missing)", false);
    }
    return *this;
  }

  bool ok() const { return ok_; }
  /// Invalid arguments read as the library's INVALID_VALUE, bad memory as a failed execution.
  bool invalid_argument() const { return invalid_; }

 private:
  Checks& bad(const std::string& what, bool invalid) {
    ok_ = false;
    invalid_ = invalid;
    refuse(std::string(call_) + ": " + what);
    return *this;
  }

  const char* call_;
  bool ok_ = true;
  bool invalid_ = false;
};

cublasStatus_t blas_status(const Checks& c) {
  return c.invalid_argument() ? CUBLAS_STATUS_INVALID_VALUE : CUBLAS_STATUS_EXECUTION_FAILED;
}

bool transposed(cublasOperation_t op) { return op != CUBLAS_OP_N; }

/// op(A) of a stored rows x cols matrix.
template <typename T>
Mat<T> apply_op(const ConstMapMat<T>& A, cublasOperation_t op) {
  return transposed(op) ? Mat<T>(A.transpose()) : Mat<T>(A);
}

/// The `uplo` triangle of an n x n matrix (the other entries are never read), as a dense
/// triangular matrix.
template <typename T>
Mat<T> triangle(const T* A, int n, int lda, cublasFillMode_t uplo) {
  Mat<T> t = Mat<T>::Zero(n, n);
  for (int c = 0; c < n; ++c) {
    for (int r = 0; r < n; ++r) {
      const bool in = uplo == CUBLAS_FILL_MODE_LOWER ? r >= c : r <= c;
      if (in) t(r, c) = A[r + std::size_t(c) * lda];
    }
  }
  return t;
}

/// The symmetric matrix whose `uplo` triangle is stored in A.
template <typename T>
Mat<T> symmetric(const T* A, int n, int lda, cublasFillMode_t uplo) {
  const Mat<T> t = triangle(A, n, lda, uplo);
  Mat<T> s = t + t.transpose();
  s.diagonal() = t.diagonal();
  return s;
}

/// out = alpha * value + beta * out, where beta = 0 never reads out (it may hold NaN).
template <typename T, typename Out, typename Value>
void scale_add(Out&& out, T alpha, const Value& value, T beta) {
  if (beta == T(0)) {
    out = alpha * value;
  } else {
    out = alpha * value + beta * out;
  }
}

template <typename T>
cublasStatus_t gemv(const char* call, cublasHandle_t h, cublasOperation_t trans, int m, int n,
                    const T* alpha, const T* A, int lda, const T* x, int incx, const T* beta, T* y,
                    int incy) {
  const int xn = transposed(trans) ? m : n, yn = transposed(trans) ? n : m;
  Checks c(call);
  c.handle(h).require(m >= 0 && n >= 0, "negative size").host_scalar("alpha", alpha);
  c.host_scalar("beta", beta);
  if (c.ok() && (m == 0 || n == 0)) return CUBLAS_STATUS_SUCCESS;
  c.matrix("A", A, m, n, lda).vector("x", x, xn, incx).vector("y", y, yn, incy);
  if (!c.ok()) return blas_status(c);
  const ConstMapMat<T> Am(A, m, n, Eigen::OuterStride<>(lda));
  const ConstMapMat<T> xv(x, xn, 1, Eigen::OuterStride<>(std::max(1, xn)));
  const Mat<T> prod = transposed(trans) ? Mat<T>(Am.transpose() * xv) : Mat<T>(Am * xv);
  scale_add(MapMat<T>(y, yn, 1, Eigen::OuterStride<>(std::max(1, yn))), *alpha, prod, *beta);
  return CUBLAS_STATUS_SUCCESS;
}

/// Solves in place with the triangular view `Mode` of A (which reads only that triangle).
template <int Mode, typename AType, typename BType>
void triangular_solve(const AType& A, bool left, BType& B) {
  if (left) {
    A.template triangularView<Mode>().solveInPlace(B);
  } else {
    A.template triangularView<Mode>().template solveInPlace<Eigen::OnTheRight>(B);
  }
}

template <bool Lower, typename AType, typename BType>
void triangular_solve(const AType& A, bool unit, bool left, BType& B) {
  if (unit) {
    triangular_solve<Lower ? Eigen::UnitLower : Eigen::UnitUpper>(A, left, B);
  } else {
    triangular_solve<Lower ? Eigen::Lower : Eigen::Upper>(A, left, B);
  }
}

template <typename T>
cublasStatus_t trsm(const char* call, cublasHandle_t h, cublasSideMode_t side,
                    cublasFillMode_t uplo, cublasOperation_t trans, cublasDiagType_t diag, int m,
                    int n, const T* alpha, const T* A, int lda, T* B, int ldb) {
  const int na = side == CUBLAS_SIDE_LEFT ? m : n;
  Checks c(call);
  c.handle(h).require(m >= 0 && n >= 0, "negative size").host_scalar("alpha", alpha);
  c.require(uplo != CUBLAS_FILL_MODE_FULL, "uplo must be LOWER or UPPER");
  if (c.ok() && (m == 0 || n == 0)) return CUBLAS_STATUS_SUCCESS;
  c.matrix("A", A, na, na, lda).matrix("B", B, m, n, ldb);
  if (!c.ok()) return blas_status(c);
  const ConstMapMat<T> Am(A, na, na, Eigen::OuterStride<>(lda));
  MapMat<T> Bm(B, m, n, Eigen::OuterStride<>(ldb));
  if (*alpha != T(1)) Bm *= *alpha;
  // op(A) X = alpha B on the left, X op(A) = alpha B on the right; A^T of a lower triangle is
  // an upper one.
  const bool left = side == CUBLAS_SIDE_LEFT, unit = diag == CUBLAS_DIAG_UNIT;
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  if (!transposed(trans)) {
    lower ? triangular_solve<true>(Am, unit, left, Bm)
          : triangular_solve<false>(Am, unit, left, Bm);
  } else {
    const auto At = Am.transpose();
    lower ? triangular_solve<false>(At, unit, left, Bm)
          : triangular_solve<true>(At, unit, left, Bm);
  }
  return CUBLAS_STATUS_SUCCESS;
}

// ---------------------------------------------------------------- cuSOLVER helpers

cusolverStatus_t solver_refusal(const Checks& c) {
  return c.invalid_argument() ? CUSOLVER_STATUS_INVALID_VALUE : CUSOLVER_STATUS_EXECUTION_FAILED;
}

int workspace_size(int n) { return 64 * std::max(1, n); }

/// The 64-bit API's workspaces: 64 doubles a row on the device, and a host workspace that is
/// never 0 bytes, so that gpbo must pass one.
std::size_t device_workspace_bytes(std::int64_t n) {
  return std::size_t(64) * std::max<std::int64_t>(1, n) * sizeof(double);
}
constexpr std::size_t kHostWorkspaceBytes = 256;

/// gpbo's rule for cuSOLVER's 32-bit API (cuda/cholesky.cuh): operands of at most 2^31 - 1
/// elements.
void require_legacy_size(Checks& c, int n, int lda) {
  c.require(std::int64_t(n) * lda <= INT_MAX,
            "n * lda = " + std::to_string(std::int64_t(n) * lda) +
                " exceeds 2^31 - 1: gpbo sends such operands through the 64-bit API");
}

char lapack_uplo(cublasFillMode_t uplo) { return uplo == CUBLAS_FILL_MODE_LOWER ? 'L' : 'U'; }

using LapackCall = lapack_int (*)(int, char, lapack_int, double*, lapack_int);

cusolverStatus_t factor_call(const char* call, LapackCall lapack, cusolverDnHandle_t h,
                             cublasFillMode_t uplo, int n, double* A, int lda, double* work,
                             int lwork, int* dev_info) {
  Checks c(call);
  c.handle(h).require(n >= 0, "negative size");
  c.require(uplo != CUBLAS_FILL_MODE_FULL, "uplo must be LOWER or UPPER");
  require_legacy_size(c, n, lda);
  c.require(lwork >= workspace_size(n), "lwork " + std::to_string(lwork) +
                                            " is less than the buffer size " +
                                            std::to_string(workspace_size(n)));
  c.matrix("A", A, n, n, std::max(lda, 0)).matrix("work", work, lwork, 1, std::max(1, lwork));
  c.matrix("devInfo", dev_info, 1, 1, 1);
  if (!c.ok()) return solver_refusal(c);
  record(call, n, lda, "lda");
  int info = 0;
  if (!injected_dev_info(call, &info) && !unbacked(A)) {
    info = static_cast<int>(lapack(LAPACK_COL_MAJOR, lapack_uplo(uplo), n, A, lda));
  }
  *dev_info = info;
  // Poison the workspace as a real library leaves it: nothing may read it afterwards.
  std::memset(work, 0xff, std::size_t(lwork) * sizeof(double));
  return CUSOLVER_STATUS_SUCCESS;
}

cusolverStatus_t buffer_size_call(const char* call, cusolverDnHandle_t h, int n, double* A, int lda,
                                  int* lwork) {
  Checks c(call);
  c.handle(h).require(n >= 0, "negative size").host_scalar("lwork", lwork);
  require_legacy_size(c, n, lda);
  c.matrix("A", A, n, n, std::max(lda, 0));
  if (!c.ok()) return solver_refusal(c);
  *lwork = workspace_size(n);
  return CUSOLVER_STATUS_SUCCESS;
}

/// The checks every 64-bit call of an n x n operand A shares.
Checks& generic_checks(Checks& c, cusolverDnHandle_t h, cublasFillMode_t uplo, std::int64_t n,
                       cudaDataType type, const void* A, std::int64_t lda) {
  c.handle(h).require(n >= 0, "negative size");
  c.require(uplo != CUBLAS_FILL_MODE_FULL, "uplo must be LOWER or UPPER");
  c.require(type == CUDA_R_64F, "the emulation computes CUDA_R_64F only");
  return c.matrix("A", static_cast<const double*>(A), n, n, lda);
}

/// The workspaces and devInfo of a computing 64-bit call (not of its _bufferSize query).
Checks& workspace_checks(Checks& c, std::int64_t n, void* device_buffer, std::size_t device_bytes,
                         void* host_buffer, std::size_t host_bytes, int* info) {
  c.require(device_bytes >= device_workspace_bytes(n),
            "workspaceInBytesOnDevice " + std::to_string(device_bytes) + " is less than " +
                std::to_string(device_workspace_bytes(n)));
  c.require(host_bytes >= kHostWorkspaceBytes, "workspaceInBytesOnHost " +
                                                   std::to_string(host_bytes) + " is less than " +
                                                   std::to_string(kHostWorkspaceBytes));
  c.matrix("bufferOnDevice", static_cast<unsigned char*>(device_buffer), std::int64_t(device_bytes),
           1, std::max<std::int64_t>(1, device_bytes));
  c.host_buffer("bufferOnHost", host_buffer, host_bytes);
  return c.matrix("devInfo", info, 1, 1, 1);
}

cusolverStatus_t generic_buffer_size(Checks& c, std::int64_t n, std::size_t* device_bytes,
                                     std::size_t* host_bytes) {
  c.host_scalar("workspaceInBytesOnDevice", device_bytes);
  c.host_scalar("workspaceInBytesOnHost", host_bytes);
  if (!c.ok()) return solver_refusal(c);
  *device_bytes = device_workspace_bytes(n);
  *host_bytes = kHostWorkspaceBytes;
  return CUSOLVER_STATUS_SUCCESS;
}

/// Runs `lapack` on A unless A is bookkeeping only or a devInfo was injected, then poisons
/// both workspaces.
template <typename Lapack>
cusolverStatus_t generic_compute(const char* call, std::int64_t n, std::int64_t lda, void* A,
                                 void* device_buffer, std::size_t device_bytes, void* host_buffer,
                                 std::size_t host_bytes, int* info, Lapack&& lapack) {
  record(call, n, lda, "lda");
  int value = 0;
  if (!injected_dev_info(call, &value) && !unbacked(A)) value = static_cast<int>(lapack());
  *info = value;
  std::memset(device_buffer, 0xff, device_bytes);
  std::memset(host_buffer, 0xff, host_bytes);
  return CUSOLVER_STATUS_SUCCESS;
}

}  // namespace

// ---------------------------------------------------------------- runtime

cudaError_t cudaSetDevice(int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice, "cudaSetDevice: the emulation has device 0");
  current_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0 || prop == nullptr)
    return fail(cudaErrorInvalidDevice, "cudaGetDeviceProperties");
  std::snprintf(prop->name, sizeof prop->name, "gpbo device emulation (host memory)");
  std::lock_guard<std::mutex> lock(state().mutex);
  prop->totalGlobalMem = state().device_memory;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0 || value == nullptr || attr != cudaDevAttrMemoryPoolsSupported) {
    return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: unknown attribute or device");
  }
  *value = 1;
  return cudaSuccess;
}

cudaError_t cudaMemPoolCreate(cudaMemPool_t* pool, const cudaMemPoolProps* props) {
  if (device_faulted("cudaMemPoolCreate")) return last_error = cudaErrorIllegalAddress;
  if (pool == nullptr || props == nullptr || props->allocType != cudaMemAllocationTypePinned ||
      props->location.type != cudaMemLocationTypeDevice || props->location.id != 0) {
    return fail(cudaErrorInvalidValue,
                "cudaMemPoolCreate: needs pinned allocations located on device 0");
  }
  *pool = new EmulatedMemPool;
  add_handle(*pool);
  return cudaSuccess;
}

cudaError_t cudaMemPoolDestroy(cudaMemPool_t pool) {
  if (!remove_handle(pool)) return fail(cudaErrorInvalidValue, "cudaMemPoolDestroy: unknown pool");
  delete pool;
  return cudaSuccess;
}

cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t pool, cudaMemPoolAttr, void* value) {
  if (device_faulted("cudaMemPoolSetAttribute")) return last_error = cudaErrorIllegalAddress;
  if (!live_handle(pool) || value == nullptr) {
    return fail(cudaErrorInvalidValue, "cudaMemPoolSetAttribute: unknown pool");
  }
  return cudaSuccess;
}

cudaError_t cudaMemPoolGetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value) {
  if (device_faulted("cudaMemPoolGetAttribute")) return last_error = cudaErrorIllegalAddress;
  if (!live_handle(pool) || value == nullptr ||
      (attr != cudaMemPoolAttrReservedMemCurrent && attr != cudaMemPoolAttrUsedMemCurrent)) {
    return fail(cudaErrorInvalidValue, "cudaMemPoolGetAttribute: unknown pool or attribute");
  }
  // The emulated pool keeps no freed blocks: what it reserves is what is in use.
  std::lock_guard<std::mutex> lock(state().mutex);
  *static_cast<std::uint64_t*>(value) = state().allocated;
  return cudaSuccess;
}

cudaError_t cudaMemPoolTrimTo(cudaMemPool_t pool, std::size_t) {
  if (device_faulted("cudaMemPoolTrimTo")) return last_error = cudaErrorIllegalAddress;
  if (!live_handle(pool)) return fail(cudaErrorInvalidValue, "cudaMemPoolTrimTo: unknown pool");
  return cudaSuccess;  // nothing kept, nothing to give back
}

cudaError_t cudaMemGetInfo(std::size_t* free, std::size_t* total) {
  if (device_faulted("cudaMemGetInfo")) return last_error = cudaErrorIllegalAddress;
  if (free == nullptr || total == nullptr) return fail(cudaErrorInvalidValue, "cudaMemGetInfo");
  std::lock_guard<std::mutex> lock(state().mutex);
  *total = state().device_memory;
  *free = state().device_memory - std::min(state().allocated, state().device_memory);
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  if (device_faulted("cudaStreamCreateWithFlags")) return last_error = cudaErrorIllegalAddress;
  if (current_device != 0) {
    return fail(cudaErrorInvalidDevice, "cudaStreamCreateWithFlags before cudaSetDevice");
  }
  *stream = new EmulatedStream;
  add_handle(*stream);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (!remove_handle(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: unknown stream");
  }
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  // Work runs when it is enqueued: nothing to wait for.
  return device_stream(stream, "cudaStreamSynchronize") ? cudaSuccess : last_error;
}

cudaError_t cudaMallocAsync(void** ptr, std::size_t bytes, cudaStream_t stream) {
  if (!device_stream(stream, "cudaMallocAsync")) return last_error;
  if (ptr == nullptr) return fail(cudaErrorInvalidValue, "cudaMallocAsync: null out pointer");
  bool bookkeeping_only = false;
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    bookkeeping_only = bytes >= state().unbacked_threshold;
    if (bytes > state().device_memory - std::min(state().allocated, state().device_memory)) {
      // Out of device memory is no misuse: an error to handle, not a refused call.
      return last_error = cudaErrorMemoryAllocation;
    }
  }
  void* p = nullptr;
  if (bookkeeping_only) {
    // Address space only: any access faults.
    p = mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) p = nullptr;
  } else {
    p = std::malloc(std::max<std::size_t>(bytes, 1));
    // Device memory starts undefined: all-ones bytes read as NaN (doubles, floats) or -1.
    if (p != nullptr) std::memset(p, 0xff, bytes);
  }
  if (p == nullptr) return fail(cudaErrorMemoryAllocation, "cudaMallocAsync: out of memory");
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    state().allocations[reinterpret_cast<std::uintptr_t>(p)] = bytes;
    state().allocated += bytes;
    state().peak = std::max(state().peak, state().allocated);
    if (bookkeeping_only) state().unbacked.insert(reinterpret_cast<std::uintptr_t>(p));
  }
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaMallocFromPoolAsync(void** ptr, std::size_t bytes, cudaMemPool_t pool,
                                    cudaStream_t stream) {
  if (!live_handle(pool)) {
    return fail(cudaErrorInvalidValue, "cudaMallocFromPoolAsync: unknown or destroyed pool");
  }
  return cudaMallocAsync(ptr, bytes, stream);
}

cudaError_t cudaFreeAsync(void* ptr, cudaStream_t stream) {
  if (!live_handle(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaFreeAsync: unknown or destroyed stream");
  }
  if (wrong_device("cudaFreeAsync")) return cudaErrorInvalidResourceHandle;
  std::size_t bytes = 0;
  bool bookkeeping_only = false;
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    const auto base = reinterpret_cast<std::uintptr_t>(ptr);
    const auto it = state().allocations.find(base);
    if (it == state().allocations.end()) {
      ptr = nullptr;
    } else {
      bytes = it->second;
      bookkeeping_only = state().unbacked.erase(base) > 0;
      state().allocations.erase(it);
      state().allocated -= bytes;
    }
  }
  if (ptr == nullptr) return fail(cudaErrorInvalidValue, "cudaFreeAsync: not an allocation");
  if (bookkeeping_only) {
    munmap(ptr, bytes);
  } else {
    std::free(ptr);
  }
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  if (!device_stream(stream, "cudaMemcpyAsync")) return last_error;
  if (bytes == 0) return cudaSuccess;
  const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind == cudaMemcpyHostToHost || kind == cudaMemcpyDefault) {
    return fail(cudaErrorInvalidValue, "cudaMemcpyAsync: gpbo names every copy's direction");
  }
  if (!copy_side(dst, bytes, dst_dev, "cudaMemcpyAsync", "destination") ||
      !copy_side(src, bytes, src_dev, "cudaMemcpyAsync", "source")) {
    return cudaErrorInvalidValue;
  }
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpy2DAsync(void* dst, std::size_t dpitch, const void* src, std::size_t spitch,
                              std::size_t width, std::size_t height, cudaMemcpyKind kind,
                              cudaStream_t stream) {
  if (!device_stream(stream, "cudaMemcpy2DAsync")) return last_error;
  if (width > dpitch || width > spitch) {
    return fail(cudaErrorInvalidValue, "cudaMemcpy2DAsync: width exceeds a pitch");
  }
  if (width == 0 || height == 0) return cudaSuccess;
  const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  const std::size_t dspan = dpitch * (height - 1) + width, sspan = spitch * (height - 1) + width;
  if (!copy_side(dst, dspan, dst_dev, "cudaMemcpy2DAsync", "destination") ||
      !copy_side(src, sspan, src_dev, "cudaMemcpy2DAsync", "source")) {
    return cudaErrorInvalidValue;
  }
  for (std::size_t r = 0; r < height; ++r) {
    std::memmove(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch,
                 width);
  }
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, std::size_t bytes, cudaStream_t stream) {
  if (!device_stream(stream, "cudaMemsetAsync")) return last_error;
  if (bytes == 0) return cudaSuccess;
  if (unbacked(ptr)) {
    if (!in_device(ptr, bytes)) {
      return fail(cudaErrorInvalidValue, "cudaMemsetAsync: past the end of its allocation");
    }
    return cudaSuccess;  // bookkeeping only: nothing to write
  }
  if (!copy_side(ptr, bytes, true, "cudaMemsetAsync", "destination")) return cudaErrorInvalidValue;
  std::memset(ptr, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaGetLastError() { return std::exchange(last_error, cudaSuccess); }

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle:
      return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalAddress:
      return "cudaErrorIllegalAddress";
    default:
      return "cudaErrorUnknown";
  }
}

const char* cudaGetErrorString(cudaError_t error) {
  return error == cudaSuccess ? "no error" : "refused by the device emulation (see stderr)";
}

// ---------------------------------------------------------------- cuBLAS

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  return create_handle(handle, "cublasCreate", CUBLAS_STATUS_SUCCESS,
                       CUBLAS_STATUS_NOT_INITIALIZED);
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  return destroy_handle(handle, "cublasDestroy", CUBLAS_STATUS_SUCCESS,
                        CUBLAS_STATUS_NOT_INITIALIZED);
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  return set_stream(handle, stream, "cublasSetStream", CUBLAS_STATUS_SUCCESS,
                    CUBLAS_STATUS_NOT_INITIALIZED);
}

cublasStatus_t cublasDdot(cublasHandle_t h, int n, const double* x, int incx, const double* y,
                          int incy, double* result) {
  Checks c("cublasDdot");
  c.handle(h).require(n >= 0, "negative size").host_scalar("result", result);
  c.vector("x", x, n, incx).vector("y", y, n, incy);
  if (!c.ok()) return blas_status(c);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += x[i] * y[i];
  *result = sum;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDgemv(cublasHandle_t h, cublasOperation_t trans, int m, int n,
                           const double* alpha, const double* A, int lda, const double* x, int incx,
                           const double* beta, double* y, int incy) {
  return gemv("cublasDgemv", h, trans, m, n, alpha, A, lda, x, incx, beta, y, incy);
}

cublasStatus_t cublasSgemv(cublasHandle_t h, cublasOperation_t trans, int m, int n,
                           const float* alpha, const float* A, int lda, const float* x, int incx,
                           const float* beta, float* y, int incy) {
  return gemv("cublasSgemv", h, trans, m, n, alpha, A, lda, x, incx, beta, y, incy);
}

cublasStatus_t cublasDsymv(cublasHandle_t h, cublasFillMode_t uplo, int n, const double* alpha,
                           const double* A, int lda, const double* x, int incx, const double* beta,
                           double* y, int incy) {
  Checks c("cublasDsymv");
  c.handle(h).require(n >= 0, "negative size").host_scalar("alpha", alpha);
  c.host_scalar("beta", beta).require(uplo != CUBLAS_FILL_MODE_FULL, "uplo must be LOWER/UPPER");
  if (c.ok() && n == 0) return CUBLAS_STATUS_SUCCESS;
  c.matrix("A", A, n, n, lda).vector("x", x, n, incx).vector("y", y, n, incy);
  if (!c.ok()) return blas_status(c);
  const Mat<double> S = symmetric(A, n, lda, uplo);
  const Mat<double> xv = ConstMapMat<double>(x, n, 1, Eigen::OuterStride<>(n));
  scale_add(MapMat<double>(y, n, 1, Eigen::OuterStride<>(n)), *alpha, Mat<double>(S * xv), *beta);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDtrsv(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans,
                           cublasDiagType_t diag, int n, const double* A, int lda, double* x,
                           int incx) {
  if (incx != 1) {
    refuse("cublasDtrsv: only unit strides are emulated");
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  const double one = 1.0;
  return trsm("cublasDtrsv", h, CUBLAS_SIDE_LEFT, uplo, trans, diag, n, 1, &one, A, lda, x,
              std::max(1, n));
}

cublasStatus_t cublasDgemm(cublasHandle_t h, cublasOperation_t transa, cublasOperation_t transb,
                           int m, int n, int k, const double* alpha, const double* A, int lda,
                           const double* B, int ldb, const double* beta, double* C, int ldc) {
  const bool ta = transposed(transa), tb = transposed(transb);
  Checks c("cublasDgemm");
  c.handle(h).require(m >= 0 && n >= 0 && k >= 0, "negative size").host_scalar("alpha", alpha);
  c.host_scalar("beta", beta);
  if (c.ok() && (m == 0 || n == 0)) return CUBLAS_STATUS_SUCCESS;
  c.matrix("C", C, m, n, ldc);
  if (k > 0)
    c.matrix("A", A, ta ? k : m, ta ? m : k, lda).matrix("B", B, tb ? n : k, tb ? k : n, ldb);
  if (!c.ok()) return blas_status(c);
  Mat<double> prod = Mat<double>::Zero(m, n);
  if (k > 0) {
    const ConstMapMat<double> Am(A, ta ? k : m, ta ? m : k, Eigen::OuterStride<>(lda));
    const ConstMapMat<double> Bm(B, tb ? n : k, tb ? k : n, Eigen::OuterStride<>(ldb));
    if (ta) {
      prod = tb ? Mat<double>(Am.transpose() * Bm.transpose()) : Mat<double>(Am.transpose() * Bm);
    } else {
      prod = tb ? Mat<double>(Am * Bm.transpose()) : Mat<double>(Am * Bm);
    }
  }
  scale_add(MapMat<double>(C, m, n, Eigen::OuterStride<>(ldc)), *alpha, prod, *beta);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDsymm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, int m,
                           int n, const double* alpha, const double* A, int lda, const double* B,
                           int ldb, const double* beta, double* C, int ldc) {
  const int na = side == CUBLAS_SIDE_LEFT ? m : n;
  Checks c("cublasDsymm");
  c.handle(h).require(m >= 0 && n >= 0, "negative size").host_scalar("alpha", alpha);
  c.host_scalar("beta", beta).require(uplo != CUBLAS_FILL_MODE_FULL, "uplo must be LOWER/UPPER");
  if (c.ok() && (m == 0 || n == 0)) return CUBLAS_STATUS_SUCCESS;
  c.matrix("A", A, na, na, lda).matrix("B", B, m, n, ldb).matrix("C", C, m, n, ldc);
  if (!c.ok()) return blas_status(c);
  const Mat<double> S = symmetric(A, na, lda, uplo);
  const Mat<double> Bm = ConstMapMat<double>(B, m, n, Eigen::OuterStride<>(ldb));
  const Mat<double> prod = side == CUBLAS_SIDE_LEFT ? Mat<double>(S * Bm) : Mat<double>(Bm * S);
  scale_add(MapMat<double>(C, m, n, Eigen::OuterStride<>(ldc)), *alpha, prod, *beta);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDsyrk(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans, int n,
                           int k, const double* alpha, const double* A, int lda, const double* beta,
                           double* C, int ldc) {
  const bool t = transposed(trans);
  Checks c("cublasDsyrk");
  c.handle(h).require(n >= 0 && k >= 0, "negative size").host_scalar("alpha", alpha);
  c.host_scalar("beta", beta).require(uplo != CUBLAS_FILL_MODE_FULL, "uplo must be LOWER/UPPER");
  if (c.ok() && n == 0) return CUBLAS_STATUS_SUCCESS;
  c.matrix("C", C, n, n, ldc);
  if (k > 0) c.matrix("A", A, t ? k : n, t ? n : k, lda);
  if (!c.ok()) return blas_status(c);
  record("cublasDsyrk", n, k, "k");
  if (unbacked(C) || (k > 0 && unbacked(A))) return CUBLAS_STATUS_SUCCESS;  // bookkeeping only
  Mat<double> prod = Mat<double>::Zero(n, n);
  if (k > 0) {
    const Mat<double> opA =
        apply_op(ConstMapMat<double>(A, t ? k : n, t ? n : k, Eigen::OuterStride<>(lda)), trans);
    prod = opA * opA.transpose();
  }
  // Only the uplo triangle of C is read or written.
  for (int col = 0; col < n; ++col) {
    for (int row = 0; row < n; ++row) {
      if (uplo == CUBLAS_FILL_MODE_LOWER ? row < col : row > col) continue;
      double& e = C[row + std::size_t(col) * ldc];
      e = *beta == 0.0 ? *alpha * prod(row, col) : *alpha * prod(row, col) + *beta * e;
    }
  }
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDgeam(cublasHandle_t h, cublasOperation_t transa, cublasOperation_t transb,
                           int m, int n, const double* alpha, const double* A, int lda,
                           const double* beta, const double* B, int ldb, double* C, int ldc) {
  const bool ta = transposed(transa), tb = transposed(transb);
  Checks c("cublasDgeam");
  c.handle(h).require(m >= 0 && n >= 0, "negative size").host_scalar("alpha", alpha);
  c.host_scalar("beta", beta);
  if (c.ok() && (m == 0 || n == 0)) return CUBLAS_STATUS_SUCCESS;
  c.matrix("A", A, ta ? n : m, ta ? m : n, lda).matrix("B", B, tb ? n : m, tb ? m : n, ldb);
  c.matrix("C", C, m, n, ldc);
  // cuBLAS computes in place only when C is A or B itself, untransposed, with the same ld.
  c.require(C != A || (!ta && lda == ldc), "C aliases A other than in cuBLAS's in-place mode");
  c.require(C != B || (!tb && ldb == ldc), "C aliases B other than in cuBLAS's in-place mode");
  if (!c.ok()) return blas_status(c);
  const Mat<double> a =
      apply_op(ConstMapMat<double>(A, ta ? n : m, ta ? m : n, Eigen::OuterStride<>(lda)), transa);
  const Mat<double> b =
      apply_op(ConstMapMat<double>(B, tb ? n : m, tb ? m : n, Eigen::OuterStride<>(ldb)), transb);
  MapMat<double>(C, m, n, Eigen::OuterStride<>(ldc)) = *alpha * a + *beta * b;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDtrsm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo,
                           cublasOperation_t trans, cublasDiagType_t diag, int m, int n,
                           const double* alpha, const double* A, int lda, double* B, int ldb) {
  return trsm("cublasDtrsm", h, side, uplo, trans, diag, m, n, alpha, A, lda, B, ldb);
}

cublasStatus_t cublasStrsm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo,
                           cublasOperation_t trans, cublasDiagType_t diag, int m, int n,
                           const float* alpha, const float* A, int lda, float* B, int ldb) {
  return trsm("cublasStrsm", h, side, uplo, trans, diag, m, n, alpha, A, lda, B, ldb);
}

// ---------------------------------------------------------------- cuSOLVER

cusolverStatus_t cusolverDnCreate(cusolverDnHandle_t* handle) {
  return create_handle(handle, "cusolverDnCreate", CUSOLVER_STATUS_SUCCESS,
                       CUSOLVER_STATUS_NOT_INITIALIZED);
}

cusolverStatus_t cusolverDnDestroy(cusolverDnHandle_t handle) {
  return destroy_handle(handle, "cusolverDnDestroy", CUSOLVER_STATUS_SUCCESS,
                        CUSOLVER_STATUS_NOT_INITIALIZED);
}

cusolverStatus_t cusolverDnSetStream(cusolverDnHandle_t handle, cudaStream_t stream) {
  return set_stream(handle, stream, "cusolverDnSetStream", CUSOLVER_STATUS_SUCCESS,
                    CUSOLVER_STATUS_NOT_INITIALIZED);
}

cusolverStatus_t cusolverDnDpotrf_bufferSize(cusolverDnHandle_t h, cublasFillMode_t, int n,
                                             double* A, int lda, int* lwork) {
  return buffer_size_call("cusolverDnDpotrf_bufferSize", h, n, A, lda, lwork);
}

cusolverStatus_t cusolverDnDpotrf(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, double* A,
                                  int lda, double* work, int lwork, int* dev_info) {
  return factor_call("cusolverDnDpotrf", LAPACKE_dpotrf_work, h, uplo, n, A, lda, work, lwork,
                     dev_info);
}

cusolverStatus_t cusolverDnDpotri_bufferSize(cusolverDnHandle_t h, cublasFillMode_t, int n,
                                             double* A, int lda, int* lwork) {
  return buffer_size_call("cusolverDnDpotri_bufferSize", h, n, A, lda, lwork);
}

cusolverStatus_t cusolverDnDpotri(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, double* A,
                                  int lda, double* work, int lwork, int* dev_info) {
  return factor_call("cusolverDnDpotri", LAPACKE_dpotri_work, h, uplo, n, A, lda, work, lwork,
                     dev_info);
}

cusolverStatus_t cusolverDnCreateParams(cusolverDnParams_t* params) {
  if (device_faulted("cusolverDnCreateParams")) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (params == nullptr) {
    refuse("cusolverDnCreateParams: null out pointer");
    return CUSOLVER_STATUS_INVALID_VALUE;
  }
  *params = new EmulatedSolverParams;
  add_handle(*params);
  return CUSOLVER_STATUS_SUCCESS;
}

cusolverStatus_t cusolverDnDestroyParams(cusolverDnParams_t params) {
  return destroy_handle(params, "cusolverDnDestroyParams", CUSOLVER_STATUS_SUCCESS,
                        CUSOLVER_STATUS_INVALID_VALUE);
}

cusolverStatus_t cusolverDnXpotrf_bufferSize(cusolverDnHandle_t h, cusolverDnParams_t params,
                                             cublasFillMode_t uplo, std::int64_t n,
                                             cudaDataType dataTypeA, const void* A,
                                             std::int64_t lda, cudaDataType computeType,
                                             std::size_t* workspaceInBytesOnDevice,
                                             std::size_t* workspaceInBytesOnHost) {
  Checks c("cusolverDnXpotrf_bufferSize");
  generic_checks(c, h, uplo, n, dataTypeA, A, lda);
  c.require(live_handle(params), "params not created or destroyed");
  c.require(computeType == CUDA_R_64F, "the emulation computes CUDA_R_64F only");
  return generic_buffer_size(c, n, workspaceInBytesOnDevice, workspaceInBytesOnHost);
}

cusolverStatus_t cusolverDnXpotrf(cusolverDnHandle_t h, cusolverDnParams_t params,
                                  cublasFillMode_t uplo, std::int64_t n, cudaDataType dataTypeA,
                                  void* A, std::int64_t lda, cudaDataType computeType,
                                  void* bufferOnDevice, std::size_t workspaceInBytesOnDevice,
                                  void* bufferOnHost, std::size_t workspaceInBytesOnHost,
                                  int* info) {
  Checks c("cusolverDnXpotrf");
  generic_checks(c, h, uplo, n, dataTypeA, A, lda);
  c.require(live_handle(params), "params not created or destroyed");
  c.require(computeType == CUDA_R_64F, "the emulation computes CUDA_R_64F only");
  workspace_checks(c, n, bufferOnDevice, workspaceInBytesOnDevice, bufferOnHost,
                   workspaceInBytesOnHost, info);
  if (!c.ok()) return solver_refusal(c);
  return generic_compute("cusolverDnXpotrf", n, lda, A, bufferOnDevice, workspaceInBytesOnDevice,
                         bufferOnHost, workspaceInBytesOnHost, info, [&] {
                           return LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, lapack_uplo(uplo), n,
                                                      static_cast<double*>(A), lda);
                         });
}

cusolverStatus_t cusolverDnXtrtri_bufferSize(cusolverDnHandle_t h, cublasFillMode_t uplo,
                                             cublasDiagType_t, std::int64_t n,
                                             cudaDataType dataTypeA, void* A, std::int64_t lda,
                                             std::size_t* workspaceInBytesOnDevice,
                                             std::size_t* workspaceInBytesOnHost) {
  Checks c("cusolverDnXtrtri_bufferSize");
  generic_checks(c, h, uplo, n, dataTypeA, A, lda);
  return generic_buffer_size(c, n, workspaceInBytesOnDevice, workspaceInBytesOnHost);
}

cusolverStatus_t cusolverDnXtrtri(cusolverDnHandle_t h, cublasFillMode_t uplo,
                                  cublasDiagType_t diag, std::int64_t n, cudaDataType dataTypeA,
                                  void* A, std::int64_t lda, void* bufferOnDevice,
                                  std::size_t workspaceInBytesOnDevice, void* bufferOnHost,
                                  std::size_t workspaceInBytesOnHost, int* devInfo) {
  Checks c("cusolverDnXtrtri");
  generic_checks(c, h, uplo, n, dataTypeA, A, lda);
  workspace_checks(c, n, bufferOnDevice, workspaceInBytesOnDevice, bufferOnHost,
                   workspaceInBytesOnHost, devInfo);
  if (!c.ok()) return solver_refusal(c);
  return generic_compute("cusolverDnXtrtri", n, lda, A, bufferOnDevice, workspaceInBytesOnDevice,
                         bufferOnHost, workspaceInBytesOnHost, devInfo, [&] {
                           return LAPACKE_dtrtri_work(LAPACK_COL_MAJOR, lapack_uplo(uplo),
                                                      diag == CUBLAS_DIAG_UNIT ? 'U' : 'N', n,
                                                      static_cast<double*>(A), lda);
                         });
}

// ---------------------------------------------------------------- test hooks

namespace emulation {

std::size_t live_allocations() {
  std::lock_guard<std::mutex> lock(state().mutex);
  return state().allocations.size();
}

std::size_t live_bytes() {
  std::lock_guard<std::mutex> lock(state().mutex);
  std::size_t sum = 0;
  for (const auto& a : state().allocations) sum += a.second;
  return sum;
}

std::size_t live_handles() {
  std::lock_guard<std::mutex> lock(state().mutex);
  return state().handles.size();
}

std::size_t refused_calls() {
  std::lock_guard<std::mutex> lock(state().mutex);
  return state().refused;
}

void inject_fault(const std::string& call) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().fault_at = call;
}

void clear_faults() {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().fault_at.clear();
  state().faulted = false;
}

void inject_dev_info(const std::string& call, int info) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().info_at = call;
  state().info_value = info;
}

std::size_t peak_bytes() {
  std::lock_guard<std::mutex> lock(state().mutex);
  return state().peak;
}

void reset_peak_bytes() {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().peak = state().allocated;
}

void set_device_memory(std::size_t bytes) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().device_memory = bytes;
}

void set_unbacked_threshold(std::size_t bytes) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().unbacked_threshold = bytes;
}

void record_calls(bool on) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().recording = on;
  if (on) state().recorded.clear();
}

std::vector<std::string> recorded_calls() {
  std::lock_guard<std::mutex> lock(state().mutex);
  return state().recorded;
}

void pause_at(const std::string& call) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().pause_call = call;
  state().resumed = false;
}

void wait_until_paused() {
  std::unique_lock<std::mutex> lock(state().mutex);
  state().pause_cv.wait(lock, [] { return state().paused; });
}

void resume() {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().resumed = true;
  state().pause_cv.notify_all();
}

}  // namespace emulation
}  // namespace gpbo::cuda
