#include "backend/backend.hpp"

#include "backend/cuda_entry.hpp"

namespace gpbo {

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

std::unique_ptr<Backend> make_backend(const Device& device) {
  const Device d = resolve_device(device);
  if (d.kind() == Device::Kind::kCuda) return detail::make_cuda_backend(d);
  return make_cpu_backend();
}

}  // namespace gpbo
