#pragma once
// The device a benchmark binary runs on (`--device=cpu|cuda|cuda:N|auto`, or the environment
// variable GPBO_BENCH_DEVICE; default cpu), and the FP64 floor printed beside GPU times.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gpbo/device.hpp"
#include "gpbo/error.hpp"

namespace gpbo::bench {

/// Removes `--device=...` from argv (before benchmark::Initialize sees it) and resolves it.
inline Device take_device_flag(int* argc, char** argv) {
  std::string text = std::getenv("GPBO_BENCH_DEVICE") ? std::getenv("GPBO_BENCH_DEVICE") : "cpu";
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    if (std::strncmp(argv[i], "--device=", 9) == 0) {
      text = argv[i] + 9;
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  return resolve_device(Device::parse(text));
}

/// The card's FP64 rate in FLOP/s used for floors: GPBO_FP64_TFLOPS, default 67 (H100/H200
/// SXM FP64 tensor-core peak; their FP64 vector peak is ~34).
inline double fp64_rate() {
  const char* env = std::getenv("GPBO_FP64_TFLOPS");
  const double tflops = env ? std::atof(env) : 67.0;
  return (tflops > 0 ? tflops : 67.0) * 1e12;
}

/// Sets floor_ms (flops / FP64 rate) and x_floor (measured seconds per iteration / floor).
inline void set_floor(benchmark::State& state, double flops, double seconds_per_iteration) {
  const double floor_s = flops / fp64_rate();
  state.counters["floor_ms"] = floor_s * 1e3;
  state.counters["x_floor"] = seconds_per_iteration / floor_s;
}

/// Set by a benchmark whose value check failed (it also reports the error through
/// SkipWithError): the binary then exits 3, so that a wrong result fails the run loudly.
inline bool& check_failed() {
  static bool failed = false;
  return failed;
}

/// The main of a benchmark binary that takes --device: sets *device, then registers (with the
/// device known) and runs the benchmarks. A bad device is exit 2 with one line on stderr; a
/// failed value check (check_failed()) exit 3.
inline int run_main(int argc, char** argv, Device* device, void (*register_benchmarks)()) {
  try {
    *device = take_device_flag(&argc, argv);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("device", device->to_string());
  register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (check_failed()) {
    std::fprintf(stderr, "%s: a value check failed (see ERROR OCCURRED above)\n", argv[0]);
    return 3;
  }
  return 0;
}

}  // namespace gpbo::bench
