#pragma once
// The in-memory model state of PersistentStudy::keep_model_warm(): the kept hyperparameters, the
// data size they were fitted at, the resident factor made with them (engine/resident_factor.hpp)
// and at most one background refit at a time.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/resident_factor.hpp"
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
    /// Asks that extended the resident factor instead of factoring all trials.
    std::int64_t resident_asks = 0;
  };

  explicit WarmModel(const WarmModelOptions& options) : options_(options) {}
  /// Waits for a running refit.
  ~WarmModel() { wait(); }
  WarmModel(const WarmModel&) = delete;
  WarmModel& operator=(const WarmModel&) = delete;

  /// The kept hyperparameters, if any.
  std::optional<GpHyperparameters> hyper() const;
  /// Keeps `h`, fitted on `n_complete` trials, and `resident`, the factor made with it (when
  /// given): both replace what was kept (a background refit's swap).
  void record_fit(const GpHyperparameters& h, std::size_t n_complete,
                  std::unique_ptr<ResidentFactor> resident = nullptr);
  /// The resident factor, handed to one ask at a time (null when none is kept, or another ask
  /// holds it); give it back with keep_factor().
  std::unique_ptr<ResidentFactor> take_factor();
  /// Keeps `resident` after an ask, unless it was made with other hyperparameters than the kept
  /// ones (a refit swapped them meanwhile) or a factor of more rows is already kept.
  void keep_factor(std::unique_ptr<ResidentFactor> resident);
  /// Counts an ask on the kept hyperparameters; `resident`: it extended the resident factor.
  void count_warm_ask(bool resident = false);
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
  std::unique_ptr<ResidentFactor> resident_;
  std::size_t n_fit_ = 0;
  bool refitting_ = false;
  std::thread worker_;
  Stats stats_;
};

}  // namespace gpbo
