// A stored study's ask with and without a warm model (PersistentStudy::keep_model_warm, what
// gpbo serve does), on the in-memory store with n complete trials at d = 10 (Levy values, as in
// ask_bench). Each iteration is one ask(1) and one tell of a fresh value, so n grows by one per
// iteration: cold asks refit the hyperparameters (warm-started) every time; warm asks condition
// on kept ones while refits run in the background on the schedule.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "bench_data.hpp"
#include "gpbo/persistent_study.hpp"

namespace {

gpbo::PersistentStudy stored_study(int n, int d) {
  const gpbo::bench::Data data = gpbo::bench::make_data(n + 2000, d);
  gpbo::Space space;
  for (int j = 0; j < d; ++j) space.add_float("x" + std::to_string(j), 0.0, 1.0);
  gpbo::StudyOptions options;
  options.n_initial = 1;
  std::shared_ptr<gpbo::Storage> storage = gpbo::Storage::open("memory://");
  gpbo::PersistentStudy study = gpbo::PersistentStudy::create(storage, "bench", space, options);
  storage->write("bench", [&](gpbo::StudyTransaction& tx) {
    for (int i = 0; i < n; ++i) {
      gpbo::Trial t;
      t.id = i;
      for (int j = 0; j < d; ++j) t.params["x" + std::to_string(j)] = data.X(i, j);
      t.state = gpbo::TrialState::kComplete;
      t.value = data.y(i);
      t.source = "initial";
      tx.insert_trial(t);
    }
  });
  return study;
}

void BM_StoredAsk(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), d = 10;
  const bool warm = state.range(1) != 0;
  gpbo::PersistentStudy study = stored_study(n, d);
  if (warm) study.keep_model_warm();
  // The first model ask fits from cold in both modes; time the asks of a running study.
  study.tell(study.ask(1).front().id, 1.0);
  study.wait_for_refit();
  for (auto _ : state) {
    const gpbo::Trial t = study.ask(1).front();
    state.PauseTiming();
    study.tell(t.id, static_cast<double>(t.id % 7));
    state.ResumeTiming();
  }
  study.wait_for_refit();
  state.counters["n"] = n;
  state.counters["warm"] = warm;
  state.counters["fits"] = static_cast<double>(study.warm_stats().fits);
}
BENCHMARK(BM_StoredAsk)
    ->Args({500, 0})
    ->Args({500, 1})
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(10)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
