#pragma once
// How every C API entry point runs its body: gpbo's exceptions become the status codes of
// service/error_table.hpp and a thread-local message, so no exception crosses the C boundary.

#include <new>
#include <string>

#include "gpbo/gpbo.h"
#include "service/error_table.hpp"

namespace gpbo::capi {

/// An error found by the C layer itself (a NULL argument), with its status.
struct CApiError {
  int status;
  std::string message;
};

/// The calling thread's last message (gpbo_last_error).
std::string& last_error();

/// Records "function: what" as the last error and returns `status`.
inline int fail(int status, const char* function, const char* what) noexcept {
  try {
    last_error() = std::string(function) + ": " + what;
  } catch (...) {
    last_error().clear();  // no memory for the message; the status still says what happened
  }
  return status;
}

/// Runs `body`, returns GPBO_OK or the status of what it threw, and sets the last error.
template <typename Body>
int guard(const char* function, Body&& body) noexcept {
  try {
    body();
    last_error().clear();
    return GPBO_OK;
  } catch (const CApiError& e) {
    return fail(e.status, function, e.message.c_str());
  } catch (const std::bad_alloc&) {
    return fail(GPBO_ERR_INTERNAL, function, "out of memory");
  } catch (const std::exception& e) {
    return fail(service::error_mapping(e).c_status, function, e.what());
  } catch (...) {
    return fail(GPBO_ERR_INTERNAL, function, "unknown exception");
  }
}

}  // namespace gpbo::capi
