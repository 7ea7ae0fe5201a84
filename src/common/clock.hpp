#pragma once
// The wall clock of leases, timestamps and the log, and a stopwatch for the time splits of an
// ask.

#include <chrono>

namespace gpbo {

/// Seconds since the Unix epoch.
inline double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

/// Seconds on the steady clock since construction or the last restart().
class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void restart() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace gpbo
