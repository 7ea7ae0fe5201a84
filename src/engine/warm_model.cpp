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
