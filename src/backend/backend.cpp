#include "backend/backend.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "backend/cuda_entry.hpp"

namespace gpbo {

std::size_t Backend::memory_bytes() const {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return std::size_t{16} << 30;  // unknown: assume 16 GiB
  return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page);
}

void Backend::score(const PosteriorFactor& f, const AcquisitionParams& acq,
                    const Eigen::MatrixXd& Xc, Eigen::VectorXd* values,
                    Eigen::MatrixXd* grad) const {
  Eigen::VectorXd mean, var;
  Eigen::MatrixXd dmean, dvar;
  f.predict(Xc, &mean, &var, grad ? &dmean : nullptr, grad ? &dvar : nullptr);
  const Eigen::Index m = Xc.rows();
  values->resize(m);
  if (grad) grad->resize(m, Xc.cols());
  for (Eigen::Index i = 0; i < m; ++i) {
    const AcquisitionValue a = evaluate_acquisition(acq, mean(i), var(i));
    (*values)(i) = a.value;
    if (grad) grad->row(i) = a.d_mean * dmean.row(i) + a.d_var * dvar.row(i);
  }
}

namespace {

/// Rows per score() call: bounds the m x n kernel block.
constexpr Eigen::Index kChunk = 4096;
/// Screening pays when the factor is large (each exact variance is O(n^2)) and few rows are
/// wanted: below these sizes top_k scores every row.
constexpr int kMinScreenedFactor = 1000;
constexpr Eigen::Index kMinScreenedRows = 256;
/// Rows scored exactly per round of screening: enough for one GEMM-shaped solve.
constexpr Eigen::Index kScreenBatch = 128;

/// Whether the acquisition never decreases as the variance grows (an upper bound of the variance
/// then bounds its value): LogEI and EI (Jones et al. 1998, EI grows with sigma), UCB with beta
/// >= 0. PI decreases with sigma above the incumbent.
bool grows_with_variance(const AcquisitionParams& acq) {
  switch (acq.type) {
    case AcquisitionType::kLogEI:
    case AcquisitionType::kEI:
      return true;
    case AcquisitionType::kUCB:
      return acq.beta >= 0.0;
    case AcquisitionType::kPI:
      return false;
  }
  return false;
}

}  // namespace

std::vector<Eigen::Index> Backend::top_k(const PosteriorFactor& f, const AcquisitionParams& acq,
                                         const Eigen::MatrixXd& Xc, int k,
                                         Eigen::VectorXd* values) const {
  const Eigen::Index m = Xc.rows();
  const Eigen::Index kk = std::clamp<Eigen::Index>(k, 0, m);
  Eigen::VectorXd all(m), chunk;
  std::vector<Eigen::Index> order;  // the rows scored exactly
  const bool screen = grows_with_variance(acq) && f.size() >= kMinScreenedFactor &&
                      m >= kMinScreenedRows && kk > 0 && 4 * kk < m;
  if (!screen) {
    for (Eigen::Index s = 0; s < m; s += kChunk) {
      const Eigen::Index len = std::min(kChunk, m - s);
      score(f, acq, Xc.middleRows(s, len), &chunk, nullptr);
      all.segment(s, len) = chunk;
    }
    order.resize(static_cast<std::size_t>(m));
    std::iota(order.begin(), order.end(), 0);
  } else {
    // Upper bounds of every row's value, from the exact mean and a bound of the variance, made
    // a little larger so that rounding in the bound cannot drop a row that ties the k-th.
    Eigen::VectorXd bound(m), mean, var;
    for (Eigen::Index s = 0; s < m; s += kChunk) {
      const Eigen::Index len = std::min(kChunk, m - s);
      f.predict_bound(Xc.middleRows(s, len), &mean, &var);
      for (Eigen::Index i = 0; i < len; ++i) {
        const double v = var(i) * (1.0 + 1e-9) + 1e-12;
        const double b = evaluate_acquisition(acq, mean(i), v).value;
        bound(s + i) = std::isnan(b) ? std::numeric_limits<double>::infinity() : b;
      }
    }
    std::vector<Eigen::Index> by_bound(static_cast<std::size_t>(m));
    std::iota(by_bound.begin(), by_bound.end(), 0);
    std::stable_sort(by_bound.begin(), by_bound.end(),
                     [&](Eigen::Index a, Eigen::Index b) { return bound(a) > bound(b); });
    // Exact values in the order of the bounds; the k-th best exact value so far is a threshold
    // no row left can beat once its bound is below it (the bounds only fall from here).
    std::vector<double> best;  // the kk largest exact values so far, a min-heap
    std::size_t next = 0;
    while (next < by_bound.size()) {
      if (static_cast<Eigen::Index>(best.size()) == kk && bound(by_bound[next]) < best.front()) {
        break;
      }
      const std::size_t len = std::min<std::size_t>(kScreenBatch, by_bound.size() - next);
      Eigen::MatrixXd rows(static_cast<Eigen::Index>(len), Xc.cols());
      for (std::size_t j = 0; j < len; ++j)
        rows.row(static_cast<Eigen::Index>(j)) = Xc.row(by_bound[next + j]);
      score(f, acq, rows, &chunk, nullptr);
      for (std::size_t j = 0; j < len; ++j) {
        const Eigen::Index r = by_bound[next + j];
        all(r) = chunk(static_cast<Eigen::Index>(j));
        order.push_back(r);
        if (std::isnan(all(r))) continue;
        if (static_cast<Eigen::Index>(best.size()) < kk) {
          best.push_back(all(r));
          std::push_heap(best.begin(), best.end(), std::greater<double>());
        } else if (all(r) > best.front()) {
          std::pop_heap(best.begin(), best.end(), std::greater<double>());
          best.back() = all(r);
          std::push_heap(best.begin(), best.end(), std::greater<double>());
        }
      }
      next += len;
    }
    std::sort(order.begin(), order.end());
  }
  // Value descending, then index ascending: the order a stable sort by value gives.
  const auto before = [&](Eigen::Index a, Eigen::Index b) {
    return all(a) > all(b) || (all(a) == all(b) && a < b);
  };
  const Eigen::Index kept = std::min<Eigen::Index>(kk, static_cast<Eigen::Index>(order.size()));
  std::partial_sort(order.begin(), order.begin() + kept, order.end(), before);
  order.resize(static_cast<std::size_t>(kept));
  if (values) {
    values->resize(kept);
    for (Eigen::Index i = 0; i < kept; ++i) (*values)(i) = all(order[i]);
  }
  return order;
}

std::unique_ptr<Backend> make_backend(const Device& device, ScorePrecision scoring) {
  const Device d = resolve_device(device);
  if (d.kind() == Device::Kind::kCuda) {
    detail::CudaBackendOptions options;
    options.scoring = scoring;
    return detail::make_cuda_backend(d, options);
  }
  return make_cpu_backend();
}

}  // namespace gpbo
