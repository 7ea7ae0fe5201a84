#pragma once
// The in-memory model state of PersistentStudy::keep_model_warm(): the kept hyperparameters, the
// data size they were fitted at, and at most one background refit at a time.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "gpbo/kernel.hpp"
#include "gpbo/options.hpp"

namespace gpbo {

/// Whether hyperparameters fitted on `n_fit` complete trials are due a refit at `n_complete`:
/// the data grew by ceil(refit_growth * n_fit) trials, at least 1 and at most refit_every.
bool refit_due(std::size_t n_fit, std::size_t n_complete, const WarmModelOptions& options);

class WarmModel {
 public:
  struct Stats {
    std::int64_t fits = 0;
    std::int64_t warm_asks = 0;
  };

  explicit WarmModel(const WarmModelOptions& options) : options_(options) {}
  /// Waits for a running refit.
  ~WarmModel() { wait(); }
  WarmModel(const WarmModel&) = delete;
  WarmModel& operator=(const WarmModel&) = delete;

  /// The kept hyperparameters, if any.
  std::optional<GpHyperparameters> hyper() const;
  /// Keeps `h`, fitted on `n_complete` trials.
  void record_fit(const GpHyperparameters& h, std::size_t n_complete);
  void count_warm_ask();
  Stats stats() const;
  /// Starts `job` on the background thread when a refit is due for `n_complete` trials (grown
  /// by refit_growth or refit_every since the last fit) and none is running.
  void maybe_refit(std::size_t n_complete, std::function<void()> job);
  /// Waits for a running refit.
  void wait();

 private:
  const WarmModelOptions options_;
  mutable std::mutex mu_;
  std::optional<GpHyperparameters> hyper_;
  std::size_t n_fit_ = 0;
  bool refitting_ = false;
  std::thread worker_;
  Stats stats_;
};

}  // namespace gpbo
