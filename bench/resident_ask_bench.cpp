// A warm ask after a tell on a long history (issue 17): a SQLite store with an imported history
// of n trials of a 20-float study (the values of bench/cold_ask.sh), held by a PersistentStudy
// that keeps its model warm (keep_model_warm: what gpbo serve does, without the HTTP round
// trip). The first ask fits in the foreground; then each round tells the last trial and times
// one ask(1). The split of each ask (load, fit, factor, acquisition) comes from its log entry;
// "commit" is the rest (the write transaction). One JSON line per ask, then one per n with the
// medians. With --cold, the same asks through a fresh handle without a warm model (the CLI's
// path: stored hyperparameters, one factorization of all n per ask) come first.
//
//   resident_ask_bench [--rounds R] [--cold] [n ...]       (default: 3 rounds, 5000 10000)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "gpbo/persistent_study.hpp"
#include "gpbo/storage.hpp"

namespace {

constexpr int kDim = 20;

double value_at(const gpbo::Params& p) {
  double v = 0.0;
  for (int j = 0; j < kDim; ++j) {
    const double x = std::get<double>(p.at("x" + std::to_string(j)));
    v += (x - 0.3) * (x - 0.3);
  }
  return v + 0.1 * std::sin(10.0 * std::get<double>(p.at("x0")));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double load_average() {
  double l = 0.0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = -1.0;
    std::fclose(f);
  }
  return l;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

/// The "model" detail of the log's last ask entry.
nlohmann::json last_ask_model(gpbo::PersistentStudy& study) {
  const std::vector<gpbo::LogEntry> log = study.log();
  for (auto it = log.rbegin(); it != log.rend(); ++it) {
    if (it->event != "ask") continue;
    const nlohmann::json d = nlohmann::json::parse(it->detail_json);
    return d.value("model", nlohmann::json::object());
  }
  return nlohmann::json::object();
}

void run(int n, int rounds, bool cold, const std::filesystem::path& dir) {
  const std::string db = (dir / ("resident" + std::to_string(n) + ".db")).string();
  std::filesystem::remove(db);
  std::shared_ptr<gpbo::Storage> storage = gpbo::Storage::open("sqlite://" + db);
  gpbo::Space space;
  for (int j = 0; j < kDim; ++j) space.add_float("x" + std::to_string(j), 0.0, 1.0);
  gpbo::StudyOptions options;
  options.seed = 1;
  gpbo::PersistentStudy::create(storage, "s", space, options);
  gpbo::PersistentStudy study(storage, "s");
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<gpbo::Trial> history(static_cast<std::size_t>(n));
  for (gpbo::Trial& t : history) {
    for (int j = 0; j < kDim; ++j) t.params["x" + std::to_string(j)] = u(rng);
    t.state = gpbo::TrialState::kComplete;
    t.value = value_at(t.params);
  }
  study.add_trials(history);

  std::vector<double> totals, cold_totals;
  std::vector<std::vector<double>> split(5);
  const char* stages[] = {"load", "fit", "factor", "acquisition", "commit"};
  auto ask_and_report = [&](gpbo::PersistentStudy& s, const char* mode, int round,
                            std::vector<double>* out) {
    const auto start = std::chrono::steady_clock::now();
    const gpbo::Trial t = s.ask(1).front();
    const double total = seconds_since(start);
    const nlohmann::json model = last_ask_model(s);
    const nlohmann::json sec = model.value("seconds", nlohmann::json::object());
    nlohmann::json line = {{"n", n},
                           {"d", kDim},
                           {"q", 1},
                           {"mode", mode},
                           {"round", round},
                           {"seconds", total},
                           {"resident", model.value("resident", false)},
                           {"load_average", load_average()}};
    double accounted = 0.0;
    for (int k = 0; k < 4; ++k) {
      const double v = sec.value(stages[k], 0.0);
      line[stages[k]] = v;
      accounted += v;
      if (out == &totals) split[static_cast<std::size_t>(k)].push_back(v);
    }
    line["commit"] = total - accounted;
    if (out == &totals) split[4].push_back(total - accounted);
    out->push_back(total);
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
    s.tell(t.id, value_at(t.params));
  };
  if (cold) {
    // The CLI's path: a fresh handle per ask, stored hyperparameters (after the first fit).
    for (int r = 0; r <= rounds; ++r) {
      gpbo::PersistentStudy fresh(storage, "s");
      ask_and_report(fresh, r == 0 ? "cold-first" : "cold", r, r == 0 ? &totals : &cold_totals);
    }
    totals.clear();
    for (auto& v : split) v.clear();
  }
  study.keep_model_warm();
  std::vector<double> first;
  ask_and_report(study, "warm-first", 0, &first);  // fits (or conditions) and keeps the factor
  study.wait_for_refit();
  for (int r = 1; r <= rounds; ++r) ask_and_report(study, "warm", r, &totals);
  study.wait_for_refit();
  nlohmann::json summary = {{"n", n},
                            {"d", kDim},
                            {"q", 1},
                            {"summary", "median of " + std::to_string(rounds) + " warm asks"},
                            {"seconds", median(totals)},
                            {"resident_asks", study.warm_stats().resident_asks},
                            {"load_average", load_average()}};
  for (int k = 0; k < 5; ++k) summary[stages[k]] = median(split[static_cast<std::size_t>(k)]);
  if (!cold_totals.empty()) summary["cold_seconds"] = median(cold_totals);
  std::printf("%s\n", summary.dump().c_str());
  std::fflush(stdout);
  std::filesystem::remove(db);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  bool cold = false;
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (a == "--cold") {
      cold = true;
    } else {
      sizes.push_back(std::atoi(a.c_str()));
    }
  }
  if (sizes.empty()) sizes = {5000, 10000};
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  for (int n : sizes) run(n, rounds, cold, dir);
  return 0;
}
