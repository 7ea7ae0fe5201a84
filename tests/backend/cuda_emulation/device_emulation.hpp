#pragma once
// What the tests may ask of the device emulation (see README.md here).

#include <cstddef>
#include <string>
#include <vector>

namespace gpbo::cuda::emulation {

/// Device allocations not yet freed, and their bytes.
std::size_t live_allocations();
std::size_t live_bytes();
/// The most bytes live at once since reset_peak_bytes(), which starts from those live now.
std::size_t peak_bytes();
void reset_peak_bytes();
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

/// The next call named `call` (a cuSOLVER factorization or inversion) checks its arguments,
/// computes nothing and writes `info` to devInfo, as cuSOLVER does for an illegal argument
/// (info = -i) or a failed minor (info = i).
void inject_dev_info(const std::string& call, int info);

/// Allocations of at least `bytes` (from now on; SIZE_MAX: none) are bookkeeping only: address
/// space with no memory behind it, so that the sizes and leading dimensions of a call on an
/// n > 46,340 operand can be checked without its 17 GB. Library calls on them check their
/// arguments and compute nothing (a factorization reports success); a copy from or to one is
/// refused, and a host loop that touches one faults.
void set_unbacked_threshold(std::size_t bytes);

/// The emulated card's global memory (default 16 GiB), as cudaGetDeviceProperties and
/// cudaMemGetInfo report it: an allocation beyond what the live ones leave fails with
/// cudaErrorMemoryAllocation (not a refused call). Takes effect for resources created after it.
void set_device_memory(std::size_t bytes);

/// While on, every cuSOLVER call and cuBLAS syrk is recorded as "name n=... lda=..." (the
/// size arguments of its operand).
void record_calls(bool on);
std::vector<std::string> recorded_calls();

/// The next thread to reach a call named `call` waits there (holding whatever it holds) until
/// resume(); wait_until_paused() returns once it does.
void pause_at(const std::string& call);
void wait_until_paused();
void resume();

}  // namespace gpbo::cuda::emulation
