// Ask+tell round trips through the C API (gpbo/gpbo.h) on a stored study that already holds
// 1,000 complete trials at d = 10 (Levy values, as in ask_bench):
//   model:           every ask reloads the study and fits the GP (warm-started) — the real thing,
//                    to compare with BM_Ask/1000/10 of ask_bench (the same work without a store);
//   initial_design:  n_initial = 100000, so every ask stays in the Sobol design and the figure is
//                    the overhead of the store, the study rebuild and the JSON.
// Each iteration is what a worker does: ask(1) -> parse the JSON -> evaluate -> tell.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "bench_data.hpp"
#include "gpbo/gpbo.h"
#include "gpbo/test_functions.hpp"

namespace {

using nlohmann::json;

constexpr int kTrials = 1000;
constexpr int kDim = 10;

void check(int status, const char* what) {
  if (status != GPBO_OK) {
    throw std::runtime_error(std::string(what) + ": status " + std::to_string(status) + ": " +
                             gpbo_last_error());
  }
}

json take_json(char* text) {
  const json j = json::parse(text);
  gpbo_free(text);
  return j;
}

/// Levy on [0,1]^d mapped to its box, the objective of the bench data.
double levy(const json& params) {
  static const gpbo::TestFunction f = gpbo::TestFunction::make("levy", kDim);
  Eigen::VectorXd x(kDim);
  for (int j = 0; j < kDim; ++j) {
    const double u = params.at("x" + std::to_string(j)).get<double>();
    x(j) = f.lower()(j) + (f.upper()(j) - f.lower()(j)) * u;
  }
  return f(x);
}

/// A stored study with kTrials complete trials, kept for the whole run (building it costs more
/// than the benchmark itself) and deleted at exit.
struct PreparedStudy {
  std::string path;
  gpbo_storage* storage = nullptr;
  gpbo_study* study = nullptr;

  PreparedStudy(const std::string& kind, bool sqlite, int n_initial) {
    std::string url = "memory://";
    if (sqlite) {
      path = (std::filesystem::temp_directory_path() /
              ("gpbo_capi_bench_" + std::to_string(::getpid()) + "_" + kind + ".db"))
                 .string();
      url = "sqlite://" + path;
    }
    check(gpbo_storage_open(url.c_str(), &storage), "open storage");
    json space = {{"params", json::array()}};
    for (int j = 0; j < kDim; ++j) {
      space["params"].push_back(
          {{"name", "x" + std::to_string(j)}, {"type", "float"}, {"low", 0.0}, {"high", 1.0}});
    }
    const std::string options = json{{"seed", 0}, {"n_initial", n_initial}}.dump();
    check(gpbo_study_create(storage, "bench", space.dump().c_str(), "minimize", options.c_str(),
                            &study),
          "create");

    // The history: kTrials queued points, asked in one batch, told one by one.
    const gpbo::bench::Data data = gpbo::bench::make_data(kTrials, kDim);
    for (int i = 0; i < kTrials; ++i) {
      json p = json::object();
      for (int j = 0; j < kDim; ++j) p["x" + std::to_string(j)] = data.X(i, j);
      check(gpbo_study_enqueue(study, p.dump().c_str()), "enqueue");
    }
    char* text = nullptr;
    check(gpbo_study_ask(study, kTrials, "setup", &text), "ask history");
    for (const json& t : take_json(text).at("trials")) {
      check(gpbo_study_tell(study, t.at("id").get<std::int64_t>(), levy(t.at("params"))),
            "tell history");
    }
    // The first model-based ask fits from cold; a running study's asks are warm-started.
    round_trip();
  }

  ~PreparedStudy() {
    gpbo_study_close(study);
    gpbo_storage_close(storage);
    if (!path.empty()) {
      std::error_code ec;
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
    }
  }

  void round_trip() {
    char* text = nullptr;
    check(gpbo_study_ask(study, 1, "bench", &text), "ask");
    const json trial = take_json(text).at("trials").at(0);
    check(gpbo_study_tell(study, trial.at("id").get<std::int64_t>(), levy(trial.at("params"))),
          "tell");
  }

  int trials() {
    char* text = nullptr;
    check(gpbo_study_trials(study, &text), "trials");
    return static_cast<int>(take_json(text).at("trials").size());
  }
};

PreparedStudy& prepared(const std::string& kind, bool sqlite, int n_initial) {
  static std::map<std::string, std::unique_ptr<PreparedStudy>> cache;
  auto& slot = cache[kind];
  if (!slot) slot = std::make_unique<PreparedStudy>(kind, sqlite, n_initial);
  return *slot;
}

void BM_CApiAskTell(benchmark::State& state, const std::string& kind, bool sqlite, int n_initial) {
  PreparedStudy* s = nullptr;
  try {
    s = &prepared(kind, sqlite, n_initial);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) {
    try {
      s->round_trip();
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["n"] = s->trials();
  state.counters["d"] = kDim;
}

// The real thing: a GP fit on ~1,000 trials per ask, through SQLite.
BENCHMARK_CAPTURE(BM_CApiAskTell, sqlite_model, std::string("sqlite_model"), true, 0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// Asks that stay in the initial design: the store's and the C API's overhead alone.
BENCHMARK_CAPTURE(BM_CApiAskTell, sqlite_initial_design, std::string("sqlite_initial"), true,
                  100000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// The same without SQLite (memory://), to split the overhead between the file and the rest.
BENCHMARK_CAPTURE(BM_CApiAskTell, memory_initial_design, std::string("memory_initial"), false,
                  100000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
