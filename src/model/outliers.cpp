// Leave-one-out outlier detection (model/outliers.hpp).
#include "model/outliers.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>

#include "backend/kernel_function.hpp"
#include "gpbo/error.hpp"

namespace gpbo {
namespace {

/// The inverse of the training covariance and the centred, standardized targets.
struct Precision {
  Eigen::MatrixXd P;
  Eigen::VectorXd z;
};

Precision precision(const GaussianProcess& gp, const Eigen::MatrixXd& X, const Eigen::VectorXd& y) {
  if (!gp.fitted()) throw InvalidArgument("loo_residuals: the GP is not fitted");
  const GpHyperparameters& h = gp.hyperparameters();
  if (X.rows() != y.size() || X.cols() != h.lengthscales.size()) {
    throw InvalidArgument("loo_residuals: X and y do not match the fitted GP");
  }
  const Eigen::Index n = X.rows();
  Eigen::MatrixXd K =
      kernel_from_sqdist(gp.options().kernel, h.outputscale, scaled_sqdist(X, X, h.lengthscales));
  K.diagonal().array() += h.noise;
  Eigen::LLT<Eigen::MatrixXd> llt(K);
  if (llt.info() != Eigen::Success) {
    throw NumericalError("loo_residuals: the covariance is not positive definite");
  }
  Precision p;
  p.P = llt.solve(Eigen::MatrixXd::Identity(n, n));
  p.z = ((y.array() - gp.y_mean()) / gp.y_scale() - h.mean).matrix();
  return p;
}

}  // namespace

Eigen::VectorXd loo_residuals(const GaussianProcess& gp, const Eigen::MatrixXd& X,
                              const Eigen::VectorXd& y) {
  const Precision p = precision(gp, X, y);
  // y_i - mu_-i = [P z]_i / P_ii and s2_-i = 1 / P_ii.
  return ((p.P * p.z).array() / p.P.diagonal().array().sqrt()).matrix();
}

std::vector<Eigen::Index> find_outliers(const GaussianProcess& gp, const Eigen::MatrixXd& X,
                                        const Eigen::VectorXd& y, const OutlierRule& rule) {
  const Eigen::Index n = X.rows();
  const int max_flagged = static_cast<int>(std::floor(rule.max_fraction * static_cast<double>(n)));
  if (n < 3 || max_flagged < 1) return {};
  Precision p;
  try {
    p = precision(gp, X, y);
  } catch (const NumericalError&) {
    return {};
  }
  const double bound = boost::math::quantile(
      boost::math::complement(boost::math::normal(), rule.familywise / (2.0 * n)));
  std::vector<bool> out(static_cast<std::size_t>(n), false);
  std::vector<Eigen::Index> flagged;
  while (static_cast<int>(flagged.size()) < max_flagged) {
    // Removed points have zero rows and columns in P, so they drop out of P z.
    const Eigen::VectorXd a = p.P * p.z;
    Eigen::Index worst = -1;
    double worst_r = bound;
    for (Eigen::Index i = 0; i < n; ++i) {
      if (out[static_cast<std::size_t>(i)] || !(p.P(i, i) > 0.0)) continue;
      const double r = std::abs(a(i)) / std::sqrt(p.P(i, i));
      if (r > worst_r) {
        worst_r = r;
        worst = i;
      }
    }
    if (worst < 0) break;
    flagged.push_back(worst);
    out[static_cast<std::size_t>(worst)] = true;
    // The inverse of the covariance without point w: P - P[:, w] P[w, :] / P[w, w].
    const Eigen::VectorXd c = p.P.col(worst);
    p.P.noalias() -= c * (c.transpose() / c(worst));
    p.P.row(worst).setZero();
    p.P.col(worst).setZero();
  }
  std::sort(flagged.begin(), flagged.end());
  return flagged;
}

}  // namespace gpbo
