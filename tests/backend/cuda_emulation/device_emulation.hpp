#pragma once
// What the tests may ask of the device emulation (see README.md here).

#include <cstddef>
#include <string>

namespace gpbo::cuda::emulation {

/// Device allocations not yet freed, and their bytes.
std::size_t live_allocations();
std::size_t live_bytes();
/// Streams and library handles not yet destroyed.
std::size_t live_handles();
/// Calls the emulation refused (bad argument, operand outside its allocation, wrong copy
/// direction...), each also described on stderr; tests expect 0 after correct use.
std::size_t refused_calls();

/// A device fault: the next call named `call` (e.g. "cublasDtrsv", "cudaMemcpyAsync") fails
/// as after an illegal address, and so does every memory, stream, cuBLAS and cuSOLVER call
/// after it, as in a poisoned CUDA context, until clear_faults(). Frees still succeed.
void inject_fault(const std::string& call);
void clear_faults();

}  // namespace gpbo::cuda::emulation
