#pragma once
// DeviceBuffer<T>: a move-only array in device memory, allocated and freed in stream order from
// the memory pool of the Stream it is made for (CudaResources' own pool, which keeps freed
// blocks, so repeated allocations are cheap). The only place in gpbo that allocates device
// memory.

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "cuda/cuda_check.cuh"

namespace gpbo::cuda {

/// The stream work is enqueued on and the memory pool its buffers come from; usable wherever a
/// cudaStream_t is.
struct Stream {
  cudaStream_t stream = nullptr;
  cudaMemPool_t pool = nullptr;
  operator cudaStream_t() const { return stream; }
};

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  /// `count` uninitialized elements from `stream`'s pool, usable by work enqueued on the stream
  /// after this call.
  /// Throws BackendUnavailable when the device is out of memory.
  DeviceBuffer(std::size_t count, Stream stream) : size_(count), stream_(stream.stream) {
    if (count == 0) return;
    void** out = reinterpret_cast<void**>(&data_);
    cudaError_t status =
        cudaMallocFromPoolAsync(out, count * sizeof(T), stream.pool, stream.stream);
    if (status == cudaErrorMemoryAllocation) {
      // The pool keeps every block freed to it, and blocks of other sizes may not serve this
      // one (a factor of n + 1 rows after one of n): give them back to the device, once.
      (void)cudaGetLastError();
      GPBO_CUDA_TRY(cudaStreamSynchronize(stream.stream));
      GPBO_CUDA_TRY(cudaMemPoolTrimTo(stream.pool, 0));
      status = cudaMallocFromPoolAsync(out, count * sizeof(T), stream.pool, stream.stream);
    }
    GPBO_CUDA_TRY(status);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        stream_(o.stream_) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      stream_ = o.stream_;
    }
    return *this;
  }
  ~DeviceBuffer() { release(); }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// Enqueues a copy of `count` elements from host memory into the buffer (from offset 0).
  void upload(const T* host, std::size_t count) {
    if (count == 0) return;
    GPBO_CUDA_TRY(cudaMemcpyAsync(data_, host, count * sizeof(T), cudaMemcpyHostToDevice, stream_));
  }
  /// Copies `count` elements into host memory and waits for them (and all prior work).
  void download(T* host, std::size_t count) const {
    if (count == 0) return;
    GPBO_CUDA_TRY(cudaMemcpyAsync(host, data_, count * sizeof(T), cudaMemcpyDeviceToHost, stream_));
    GPBO_CUDA_TRY(cudaStreamSynchronize(stream_));
  }

 private:
  void release() noexcept {
    // Destructors never throw: a failed free (e.g. at driver shutdown) is ignored.
    if (data_ != nullptr) cudaFreeAsync(data_, stream_);
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  cudaStream_t stream_ = nullptr;
};

}  // namespace gpbo::cuda
