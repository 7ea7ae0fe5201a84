// A whole ask (warm-started GP fit, acquisition optimization, selection) with n completed
// trials, on `--device=cpu|cuda` (default cpu): at d = 10 on the CPU (the figure compared with
// Optuna's GPSampler in the README), up to n = 10,000, d = 20 on the GPU, and a trust-region
// batch ask in high dimension (issue 7: d = 300, n = 5,000, q = 100) on either; and an ask of
// a study with two objectives and a constraint beside the single-objective one (issue 16).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <optional>

#include "bench_data.hpp"
#include "bench_device.hpp"
#include "gpbo/error.hpp"
#include "gpbo/study.hpp"

namespace {

gpbo::Device g_device = gpbo::Device::cpu();

gpbo::Space unit_space(int d) {
  gpbo::Space s;
  for (int j = 0; j < d; ++j) s.add_float("x" + std::to_string(j), 0.0, 1.0);
  return s;
}

/// A study with n complete trials of Levy values, its GP already fitted once.
gpbo::Study study_with_history(int n, int d, gpbo::Strategy strategy = gpbo::Strategy::kAuto,
                               int max_points = 1000) {
  const gpbo::bench::Data data = gpbo::bench::make_data(n, d);
  gpbo::StudyOptions options;
  options.device = g_device;
  options.strategy = strategy;
  options.trust_region.max_points = max_points;
  gpbo::Study study(unit_space(d), options);
  for (int i = 0; i < n; ++i) {
    gpbo::Params p;
    for (int j = 0; j < d; ++j) p["x" + std::to_string(j)] = data.X(i, j);
    study.enqueue(p);
    study.tell(study.ask().id, data.y(i));
  }
  // The first model-based ask fits from cold; a running study's asks are warm-started.
  study.tell_state(study.ask().id, gpbo::TrialState::kFailed);
  return study;
}

void BM_Ask(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  gpbo::Study study = study_with_history(n, d);
  for (auto _ : state) {
    const gpbo::Trial& t = study.ask();
    benchmark::DoNotOptimize(t.id);
    state.PauseTiming();
    study.tell_state(t.id,
                     gpbo::TrialState::kFailed);  // keep n fixed: a failed trial is not modelled
    state.ResumeTiming();
  }
  state.counters["n"] = n;
  state.counters["d"] = d;
}

void BM_AskBatch(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const int q = static_cast<int>(state.range(2));
  gpbo::Study study = study_with_history(n, d);
  for (auto _ : state) {
    const std::vector<gpbo::Trial> batch = study.ask(q);
    state.PauseTiming();
    for (const gpbo::Trial& t : batch) study.tell_state(t.id, gpbo::TrialState::kFailed);
    state.ResumeTiming();
  }
  state.counters["n"] = n;
  state.counters["d"] = d;
  state.counters["q"] = q;
  state.counters["points/s"] =
      benchmark::Counter(static_cast<double>(q), benchmark::Counter::kIsIterationInvariantRate);
}

/// The same with two objectives and one outcome constraint (three GPs; LogEHVI times the
/// probability of feasibility): Levy (minimized), a ridge (maximized), a sphere (<= its median).
void BM_AskMetrics(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const gpbo::bench::Data data = gpbo::bench::make_data(n, d);
  gpbo::StudyOptions options;
  options.device = g_device;
  options.metrics.objectives = {{"levy", gpbo::Direction::kMinimize, std::nullopt},
                                {"ridge", gpbo::Direction::kMaximize, std::nullopt}};
  options.metrics.constraints = {{"sphere", gpbo::Bound::kAtMost, d / 12.0}};
  gpbo::Study study(unit_space(d), options);
  for (int i = 0; i < n; ++i) {
    gpbo::Params p;
    double ridge = 0.0, sphere = 0.0;
    for (int j = 0; j < d; ++j) {
      const double x = data.X(i, j);
      p["x" + std::to_string(j)] = x;
      ridge += std::sin(3.0 * x + j);
      sphere += (x - 0.5) * (x - 0.5);
    }
    study.enqueue(p);
    study.tell(study.ask().id,
               gpbo::MetricValues{{"levy", data.y(i)}, {"ridge", ridge}, {"sphere", sphere}});
  }
  study.tell_state(study.ask().id, gpbo::TrialState::kFailed);  // the cold fits
  for (auto _ : state) {
    const gpbo::Trial& t = study.ask();
    benchmark::DoNotOptimize(t.id);
    state.PauseTiming();
    study.tell_state(t.id, gpbo::TrialState::kFailed);
    state.ResumeTiming();
  }
  state.counters["n"] = n;
  state.counters["d"] = d;
}

void register_benchmarks() {
  if (g_device.kind() == gpbo::Device::Kind::kCuda) {
    benchmark::RegisterBenchmark("BM_Ask", BM_Ask)
        ->Args({1000, 10})
        ->Args({10000, 20})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(3);
    return;
  }
  benchmark::RegisterBenchmark("BM_Ask", BM_Ask)
      ->ArgsProduct({{250, 500, 1000, 2000}, {10}})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinTime(2.0);
  // Issue 16's speed target: two objectives and a constraint, beside BM_Ask/1000/10.
  benchmark::RegisterBenchmark("BM_AskMetrics", BM_AskMetrics)
      ->Args({1000, 10})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinTime(2.0);
  // ask(q) at n = 1,000, d = 10 with the automatic batch method (greedy up to q = 16, Thompson
  // sampling above).
  benchmark::RegisterBenchmark("BM_AskBatch", BM_AskBatch)
      ->ArgsProduct({{1000}, {10}, {1, 8, 64, 256, 1024}})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(3);
}

// ask(q) with the trust region: a local GP on the max_points (4th argument; 0: all) trials
// nearest the centre (warm started), 5,000 candidates perturbing ~20 of the d coordinates, one
// exact joint Thompson draw per point.
void BM_AskTrustRegion(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const int q = static_cast<int>(state.range(2)), max_points = static_cast<int>(state.range(3));
  gpbo::Study study = study_with_history(n, d, gpbo::Strategy::kTrustRegion, max_points);
  for (auto _ : state) {
    const std::vector<gpbo::Trial> batch = study.ask(q);
    state.PauseTiming();
    for (const gpbo::Trial& t : batch) study.tell_state(t.id, gpbo::TrialState::kFailed);
    state.ResumeTiming();
  }
  state.counters["n"] = n;
  state.counters["d"] = d;
  state.counters["q"] = q;
  state.counters["max_points"] = max_points;
}
BENCHMARK(BM_AskTrustRegion)
    ->Args({5000, 300, 100, 1000})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  return gpbo::bench::run_main(argc, argv, &g_device, register_benchmarks);
}
