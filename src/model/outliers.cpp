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

/// The training covariance's Cholesky factor and the centred, standardized targets.
struct Factor {
  Eigen::MatrixXd L;
  Eigen::VectorXd z;
};

Factor factor(const GaussianProcess& gp, const Eigen::MatrixXd& X, const Eigen::VectorXd& y) {
  if (!gp.fitted()) throw InvalidArgument("loo_residuals: the GP is not fitted");
  const GpHyperparameters& h = gp.hyperparameters();
  if (X.rows() != y.size() || X.cols() != h.lengthscales.size()) {
    throw InvalidArgument("loo_residuals: X and y do not match the fitted GP");
  }
  Eigen::MatrixXd K =
      kernel_from_sqdist(gp.options().kernel, h.outputscale, scaled_sqdist(X, X, h.lengthscales));
  K.diagonal().array() += h.noise;
  Eigen::LLT<Eigen::MatrixXd> llt(K);
  if (llt.info() != Eigen::Success) {
    throw NumericalError("loo_residuals: the covariance is not positive definite");
  }
  return {llt.matrixL(), ((y.array() - gp.y_mean()) / gp.y_scale() - h.mean).matrix()};
}

/// L^-1 (lower triangular): P = K^-1 = L^-T L^-1, so P_ii is the squared norm of column i.
Eigen::MatrixXd inverse_factor(const Eigen::MatrixXd& L) {
  Eigen::MatrixXd Linv = Eigen::MatrixXd::Identity(L.rows(), L.cols());
  L.triangularView<Eigen::Lower>().solveInPlace(Linv);
  return Linv;
}

/// The median of the values (a copy is partially sorted).
double median(Eigen::VectorXd v) {
  const Eigen::Index n = v.size(), k = n / 2;
  std::nth_element(v.data(), v.data() + k, v.data() + n);
  const double hi = v(k);
  if (n % 2) return hi;
  return 0.5 * (hi + *std::max_element(v.data(), v.data() + k));
}

}  // namespace

Eigen::VectorXd loo_residuals(const GaussianProcess& gp, const Eigen::MatrixXd& X,
                              const Eigen::VectorXd& y) {
  const Factor f = factor(gp, X, y);
  const Eigen::MatrixXd Linv = inverse_factor(f.L);
  // y_i - mu_-i = [P z]_i / P_ii and s2_-i = 1 / P_ii.
  const Eigen::VectorXd a = Linv.transpose() * (Linv * f.z);
  return (a.array() / Linv.colwise().norm().transpose().array()).matrix();
}

std::vector<Eigen::Index> find_outliers(const GaussianProcess& gp, const Eigen::MatrixXd& X,
                                        const Eigen::VectorXd& y, const OutlierRule& rule) {
  const Eigen::Index n = X.rows();
  const int max_flagged = static_cast<int>(std::floor(rule.max_fraction * static_cast<double>(n)));
  if (n < 3 || max_flagged < 1) return {};
  Factor f;
  try {
    f = factor(gp, X, y);
  } catch (const NumericalError&) {
    return {};
  }
  const double bound = boost::math::quantile(
      boost::math::complement(boost::math::normal(), rule.familywise / (2.0 * n)));
  // The data's own spread, robustly (1.4826 MAD): the gap an outlier needs besides the residual.
  // When more than half the values are equal (a plateau: failed runs clipped to one value,
  // chance-level accuracy) the MAD is 0; the mean absolute deviation from the median still sees
  // the rest. All values equal: nothing is implausible.
  const Eigen::VectorXd deviation = (f.z.array() - median(f.z)).abs().matrix();
  double spread = 1.4826 * median(deviation);
  if (!(spread > 0.0)) spread = deviation.mean();
  if (!(spread > 0.0)) return {};
  const double min_gap = rule.min_gap * spread;
  const Eigen::MatrixXd Linv = inverse_factor(f.L);
  Eigen::VectorXd a = Linv.transpose() * (Linv * f.z);
  Eigen::VectorXd p = Linv.colwise().squaredNorm().transpose();
  const auto implausible = [&](Eigen::Index i) {
    return p(i) > 0.0 && std::abs(a(i)) / std::sqrt(p(i)) > bound &&
           std::abs(a(i)) / p(i) > min_gap;
  };
  // Clean data (the usual case) costs one triangular inverse; the full inverse only when some
  // point is flagged.
  bool any = false;
  for (Eigen::Index i = 0; i < n && !any; ++i) any = implausible(i);
  if (!any) return {};
  Eigen::MatrixXd P = Linv.transpose() * Linv;
  std::vector<bool> out(static_cast<std::size_t>(n), false);
  std::vector<Eigen::Index> flagged;
  while (static_cast<int>(flagged.size()) < max_flagged) {
    Eigen::Index worst = -1;
    double worst_r = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
      if (out[static_cast<std::size_t>(i)] || !implausible(i)) continue;
      const double r = std::abs(a(i)) / std::sqrt(p(i));
      if (r > worst_r) {
        worst_r = r;
        worst = i;
      }
    }
    if (worst < 0) break;
    flagged.push_back(worst);
    out[static_cast<std::size_t>(worst)] = true;
    // The inverse of the covariance without point w: P - P[:, w] P[w, :] / P[w, w]. Removed
    // points keep zero rows and columns, so they drop out of P z.
    const Eigen::VectorXd c = P.col(worst);
    P.noalias() -= c * (c.transpose() / c(worst));
    P.row(worst).setZero();
    P.col(worst).setZero();
    a = P * f.z;
    p = P.diagonal();
  }
  std::sort(flagged.begin(), flagged.end());
  return flagged;
}

}  // namespace gpbo
