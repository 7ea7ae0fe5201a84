#include "engine/warm_model.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace gpbo {

std::optional<GpHyperparameters> WarmModel::hyper() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hyper_;
}

void WarmModel::record_fit(const GpHyperparameters& h, std::size_t n_complete) {
  std::lock_guard<std::mutex> lock(mu_);
  hyper_ = h;
  n_fit_ = n_complete;
  ++stats_.fits;
}

void WarmModel::count_warm_ask() {
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.warm_asks;
}

WarmModel::Stats WarmModel::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void WarmModel::maybe_refit(std::size_t n_complete, std::function<void()> job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!hyper_ || refitting_ || n_complete <= n_fit_) return;
  const double grown = std::ceil(options_.refit_growth * static_cast<double>(n_fit_));
  const auto due = static_cast<std::size_t>(
      std::clamp(grown, 1.0, static_cast<double>(std::max(1, options_.refit_every))));
  if (n_complete - n_fit_ < due) return;
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
