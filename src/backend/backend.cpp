#include "backend/backend.hpp"

#include <unistd.h>

#include <algorithm>
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

std::vector<Eigen::Index> Backend::top_k(const PosteriorFactor& f, const AcquisitionParams& acq,
                                         const Eigen::MatrixXd& Xc, int k,
                                         Eigen::VectorXd* values) const {
  constexpr Eigen::Index kChunk = 4096;  // rows per score() call: bounds the m x n kernel block
  const Eigen::Index m = Xc.rows();
  Eigen::VectorXd all(m), chunk;
  for (Eigen::Index s = 0; s < m; s += kChunk) {
    const Eigen::Index len = std::min(kChunk, m - s);
    score(f, acq, Xc.middleRows(s, len), &chunk, nullptr);
    all.segment(s, len) = chunk;
  }
  std::vector<Eigen::Index> order(m);
  std::iota(order.begin(), order.end(), 0);
  const Eigen::Index kk = std::clamp<Eigen::Index>(k, 0, m);
  // Value descending, then index ascending: the order a stable sort by value gives.
  std::partial_sort(order.begin(), order.begin() + kk, order.end(),
                    [&](Eigen::Index a, Eigen::Index b) {
                      return all(a) > all(b) || (all(a) == all(b) && a < b);
                    });
  order.resize(kk);
  if (values) {
    values->resize(kk);
    for (Eigen::Index i = 0; i < kk; ++i) (*values)(i) = all(order[i]);
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
