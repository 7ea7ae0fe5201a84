// gpbo report on large studies: the time to render the page of n trials (d = 6, 2% failed) and
// its size, the target being 10,000 trials in under 5 s and under 5 MB.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "gpbo/report.hpp"

namespace {

gpbo::ReportInput study_of(int n) {
  gpbo::ReportInput in;
  in.name = "large";
  for (int i = 0; i < 6; ++i) in.space.add_float("x" + std::to_string(i), 0.0, 1.0);
  std::uint64_t state = 7;
  for (int id = 0; id < n; ++id) {
    gpbo::Trial t;
    t.id = id;
    double sum = 0.0;
    for (int i = 0; i < 6; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const double x = static_cast<double>(state >> 11) / 9007199254740992.0;
      t.params["x" + std::to_string(i)] = x;
      sum += (x - 0.3) * (x - 0.3) * (i + 1);
    }
    t.state = id % 50 == 7 ? gpbo::TrialState::kFailed : gpbo::TrialState::kComplete;
    if (t.state == gpbo::TrialState::kComplete) t.value = sum;
    t.worker_id = "w" + std::to_string(id % 16);
    t.created_at = 1.0e9 + 10.0 * id;
    t.finished_at = t.created_at + 9.0;
    in.trials.push_back(t);
  }
  return in;
}

void BM_Report(benchmark::State& state) {
  const gpbo::ReportInput in = study_of(static_cast<int>(state.range(0)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string html = gpbo::render_report(in);
    bytes = html.size();
    benchmark::DoNotOptimize(html.data());
  }
  state.counters["n"] = static_cast<double>(state.range(0));
  state.counters["MB"] = static_cast<double>(bytes) / (1024.0 * 1024.0);
}
BENCHMARK(BM_Report)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
