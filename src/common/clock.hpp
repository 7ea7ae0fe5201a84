#pragma once
// The wall clock of leases, timestamps and the log, and a monotonic one for durations.

#include <chrono>

namespace gpbo {

/// Seconds since the Unix epoch.
inline double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

/// Seconds on a monotonic clock (durations only).
inline double steady_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace gpbo
