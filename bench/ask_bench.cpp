// A whole ask on the CPU (warm-started GP fit, acquisition optimization, selection) with n
// completed trials at d = 10 — the figure compared with Optuna's GPSampler in the README.
#include <benchmark/benchmark.h>

#include "bench_data.hpp"
#include "gpbo/study.hpp"

namespace {

gpbo::Space unit_space(int d) {
  gpbo::Space s;
  for (int j = 0; j < d; ++j) s.add_float("x" + std::to_string(j), 0.0, 1.0);
  return s;
}

void BM_Ask(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const gpbo::bench::Data data = gpbo::bench::make_data(n, d);
  gpbo::StudyOptions options;
  options.device = gpbo::Device::cpu();
  gpbo::Study study(unit_space(d), options);
  for (int i = 0; i < n; ++i) {
    gpbo::Params p;
    for (int j = 0; j < d; ++j) p["x" + std::to_string(j)] = data.X(i, j);
    study.enqueue(p);
    study.tell(study.ask().id, data.y(i));
  }
  // The first model-based ask fits from cold; a running study's asks are warm-started.
  study.tell_failed(study.ask().id);
  for (auto _ : state) {
    const gpbo::Trial& t = study.ask();
    benchmark::DoNotOptimize(t.id);
    state.PauseTiming();
    study.tell_failed(t.id);  // keep n fixed: a failed trial is not modelled
    state.ResumeTiming();
  }
  state.counters["n"] = n;
  state.counters["d"] = d;
}
BENCHMARK(BM_Ask)
    ->ArgsProduct({{250, 500, 1000, 2000}, {10}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
