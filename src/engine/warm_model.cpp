#include "engine/warm_model.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace gpbo {

std::optional<GpHyperparameters> WarmModel::hyper() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hyper_;
}

void WarmModel::record_fit(const GpHyperparameters& h, std::size_t n_complete,
                           std::unique_ptr<ResidentFactor> resident) {
  std::unique_ptr<ResidentFactor> old;  // freed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  hyper_ = h;
  n_fit_ = n_complete;
  old = std::move(resident_);
  if (resident && same_hyperparameters(resident->hyper, h)) resident_ = std::move(resident);
  ++stats_.fits;
}

std::unique_ptr<ResidentFactor> WarmModel::take_factor() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(resident_);
}

void WarmModel::keep_factor(std::unique_ptr<ResidentFactor> resident) {
  if (!resident || !resident->factor) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!hyper_ || !same_hyperparameters(resident->hyper, *hyper_)) return;
  if (resident_ && resident_->trial_ids.size() >= resident->trial_ids.size()) return;
  std::swap(resident_, resident);  // the one replaced is freed after the lock, below
}

void WarmModel::count_warm_ask(bool resident) {
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.warm_asks;
  if (resident) ++stats_.resident_asks;
}

WarmModel::Stats WarmModel::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool refit_due(std::size_t n_fit, std::size_t n_complete, const WarmModelOptions& options) {
  if (n_complete <= n_fit) return false;
  const double grown = std::ceil(options.refit_growth * static_cast<double>(n_fit));
  const auto due = static_cast<std::size_t>(
      std::clamp(grown, 1.0, static_cast<double>(std::max(1, options.refit_every))));
  return n_complete - n_fit >= due;
}

void WarmModel::maybe_refit(std::size_t n_complete, std::function<void()> job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!hyper_ || refitting_ || !refit_due(n_fit_, n_complete, options_)) return;
  if (worker_.joinable()) worker_.join();  // the previous refit has finished
  refitting_ = true;
  worker_ = std::thread([this, job = std::move(job)] {
    job();
    std::lock_guard<std::mutex> done(mu_);
    refitting_ = false;
  });
}

void WarmModel::wait() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t = std::move(worker_);
  }
  if (t.joinable()) t.join();
}

}  // namespace gpbo
