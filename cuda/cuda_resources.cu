#include <cstdint>
#include <string>

#include "cuda/cuda_check.cuh"
#include "cuda/cuda_resources.cuh"

namespace gpbo::cuda {

const char* cublas_status_name(cublasStatus_t s) noexcept {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR:
      return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* cusolver_status_name(cusolverStatus_t s) noexcept {
  switch (s) {
    case CUSOLVER_STATUS_SUCCESS:
      return "CUSOLVER_STATUS_SUCCESS";
    case CUSOLVER_STATUS_NOT_INITIALIZED:
      return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED:
      return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE:
      return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH:
      return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_EXECUTION_FAILED:
      return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR:
      return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED:
      return "CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED";
    case CUSOLVER_STATUS_NOT_SUPPORTED:
      return "CUSOLVER_STATUS_NOT_SUPPORTED";
    default:
      return "CUSOLVER_STATUS_OTHER";
  }
}

namespace {

std::string where(const char* call, const char* file, int line) {
  return std::string(call) + " at " + file + ":" + std::to_string(line);
}

}  // namespace

void throw_cuda_error(cudaError_t e, const char* call, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw BackendUnavailable("CUDA: " + where(call, file, line) + " failed: " + cudaGetErrorName(e) +
                           " (" + cudaGetErrorString(e) + ")");
}

void throw_cublas_error(cublasStatus_t s, const char* call, const char* file, int line) {
  throw BackendUnavailable("cuBLAS: " + where(call, file, line) +
                           " failed: " + cublas_status_name(s));
}

void throw_cusolver_error(cusolverStatus_t s, const char* call, const char* file, int line) {
  throw BackendUnavailable("cuSOLVER: " + where(call, file, line) +
                           " failed: " + cusolver_status_name(s));
}

CudaResources::Lock::Lock(CudaResources& r) : lock_(r.mutex_) {
  GPBO_CUDA_TRY(cudaSetDevice(r.device_));
  if (!r.initialized_) r.init();
}

CudaResources::Lock::Lock(CudaResources& r, std::nothrow_t) noexcept : lock_(r.mutex_) {
  cudaSetDevice(r.device_);
}

void CudaResources::init() {
  try {
    create();
  } catch (...) {
    release();
    throw;
  }
  initialized_ = true;
}

std::size_t CudaResources::available_memory() const {
  std::size_t free = 0, total = 0;
  GPBO_CUDA_TRY(cudaMemGetInfo(&free, &total));
  std::uint64_t reserved = 0, used = 0;
  GPBO_CUDA_TRY(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrReservedMemCurrent, &reserved));
  GPBO_CUDA_TRY(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrUsedMemCurrent, &used));
  return free + static_cast<std::size_t>(reserved > used ? reserved - used : 0);
}

void CudaResources::create() {
  cudaDeviceProp prop{};
  GPBO_CUDA_TRY(cudaGetDeviceProperties(&prop, device_));
  static_assert(sizeof(name_) >= sizeof(prop.name), "device name buffer");
  for (std::size_t i = 0; i < sizeof(prop.name); ++i) name_[i] = prop.name[i];
  total_memory_ = prop.totalGlobalMem;
  int pools = 0;
  GPBO_CUDA_TRY(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device_));
  if (pools == 0) {
    throw BackendUnavailable("CUDA device " + std::to_string(device_) + " (" + name_ +
                             ") has no stream-ordered memory pools");
  }
  // A pool of our own (not the device's default, which other code in the process shares):
  // freed blocks stay in it, since the scoring and likelihood loops allocate the same sizes
  // again and again, and all of it goes back to the device when the resources are destroyed.
  cudaMemPoolProps props{};
  props.allocType = cudaMemAllocationTypePinned;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = device_;
  GPBO_CUDA_TRY(cudaMemPoolCreate(&pool_, &props));
  std::uint64_t threshold = UINT64_MAX;
  GPBO_CUDA_TRY(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrReleaseThreshold, &threshold));
  GPBO_CUDA_TRY(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  GPBO_CUBLAS_TRY(cublasCreate(&cublas_));
  GPBO_CUBLAS_TRY(cublasSetStream(cublas_, stream_));
  GPBO_CUSOLVER_TRY(cusolverDnCreate(&cusolver_));
  GPBO_CUSOLVER_TRY(cusolverDnSetStream(cusolver_, stream_));
  GPBO_CUSOLVER_TRY(cusolverDnCreateParams(&params_));
  dev_info_ = DeviceBuffer<int>(1, stream());
}

void CudaResources::release() noexcept {
  // Buffers first (they free on the stream), then the handles, each only if it was created.
  workspace_ = DeviceBuffer<double>();
  dev_info_ = DeviceBuffer<int>();
  host_workspace_ = std::vector<unsigned char>();
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  if (params_ != nullptr) cusolverDnDestroyParams(params_);
  if (cusolver_ != nullptr) cusolverDnDestroy(cusolver_);
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
  if (pool_ != nullptr) cudaMemPoolDestroy(pool_);
  params_ = nullptr;
  cusolver_ = nullptr;
  cublas_ = nullptr;
  stream_ = nullptr;
  pool_ = nullptr;
  initialized_ = false;
}

CudaResources::~CudaResources() {
  if (!initialized_) return;  // a failed init released what it had made
  // Best effort, never throwing.
  cudaSetDevice(device_);
  release();
}

double* CudaResources::solver_workspace(std::size_t count) {
  if (workspace_.size() < count) {
    workspace_ = DeviceBuffer<double>();  // stream-ordered free, then a larger block
    workspace_ = DeviceBuffer<double>(count, stream());
  }
  return workspace_.data();
}

void* CudaResources::host_workspace(std::size_t bytes) {
  if (host_workspace_.size() < bytes) host_workspace_.resize(bytes);
  return bytes == 0 ? nullptr : host_workspace_.data();
}

int CudaResources::read_dev_info() {
  int info = 0;
  dev_info_.download(&info, 1);
  return info;
}

}  // namespace gpbo::cuda
