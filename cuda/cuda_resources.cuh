#pragma once
// CudaResources: the one owner of a device's stream, cuBLAS and cuSOLVER handles and solver
// workspace (after faiss's GpuResources). Handles are created on first use, only after the
// caller has established that the device exists: without a driver cusolverDnCreate fails.
// Shared (std::shared_ptr) by a CudaBackend and every PosteriorFactor it made.

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <cstddef>
#include <mutex>
#include <new>
#include <vector>

#include "cuda/device_buffer.cuh"

namespace gpbo::cuda {

class CudaResources {
 public:
  /// Records the ordinal only; nothing is created until the first lock().
  explicit CudaResources(int device) : device_(device) {}
  ~CudaResources();
  CudaResources(const CudaResources&) = delete;
  CudaResources& operator=(const CudaResources&) = delete;

  /// Exclusive use of the resources by one operation: makes the device current on this thread
  /// and creates the stream and handles the first time. Every public backend call holds one.
  /// Recursive: an object that frees its buffers under a Lock may die inside another one.
  class Lock {
   public:
    explicit Lock(CudaResources& r);
    /// For destructors, which never throw: waits for the lock and makes the device current,
    /// ignoring a failure (a freed buffer's cudaFreeAsync then fails quietly too), and never
    /// creates anything.
    Lock(CudaResources& r, std::nothrow_t) noexcept;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    std::unique_lock<std::recursive_mutex> lock_;
  };

  int device() const { return device_; }
  /// The stream every gpbo operation on this device runs on, with the resources' own memory
  /// pool (valid under a Lock).
  Stream stream() const { return {stream_, pool_}; }
  cublasHandle_t cublas() const { return cublas_; }
  cusolverDnHandle_t cusolver() const { return cusolver_; }
  /// The options object of cuSOLVER's 64-bit API (cusolverDnX*), default settings.
  cusolverDnParams_t cusolver_params() const { return params_; }
  /// Name of the card, e.g. "NVIDIA H100 80GB HBM3" (valid under a Lock).
  const char* name() const { return name_; }
  /// The card's global memory in bytes (valid under a Lock).
  std::size_t total_memory() const { return total_memory_; }

  /// Bytes the next allocations can take: the device's free memory and the free blocks this
  /// resources' pool keeps (valid under a Lock).
  std::size_t available_memory() const;

  /// A cuSOLVER workspace of at least `count` doubles, grown on demand (valid until the next
  /// call; callers hold a Lock).
  double* solver_workspace(std::size_t count);
  /// A host workspace of at least `bytes` for cuSOLVER's 64-bit API (null for 0), grown on
  /// demand, valid as solver_workspace.
  void* host_workspace(std::size_t bytes);
  /// A device int for cuSOLVER's devInfo.
  int* dev_info() { return dev_info_.data(); }
  /// Copies devInfo to the host (synchronizes the stream).
  int read_dev_info();

 private:
  /// Creates everything, under mutex_; on a failure part-way, releases what it created and
  /// throws, so the next Lock tries again from nothing.
  void init();
  void create();
  /// Destroys whatever exists (each handle only if created), never throwing.
  void release() noexcept;

  const int device_;
  std::recursive_mutex mutex_;
  bool initialized_ = false;
  std::size_t total_memory_ = 0;
  cudaStream_t stream_ = nullptr;
  cudaMemPool_t pool_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cusolverDnHandle_t cusolver_ = nullptr;
  cusolverDnParams_t params_ = nullptr;
  char name_[256] = {0};
  DeviceBuffer<double> workspace_;
  std::vector<unsigned char> host_workspace_;
  DeviceBuffer<int> dev_info_;
};

}  // namespace gpbo::cuda
