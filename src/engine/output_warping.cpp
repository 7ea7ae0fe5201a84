// Output warping (gpbo/study.hpp: warp_outputs): monotone transforms of the observed values
// before the GP fit.
#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <vector>

#include "gpbo/study.hpp"

namespace gpbo {

int value_exponent(const Eigen::VectorXd& y) {
  if (y.size() == 0) return 0;
  const double m = y.cwiseAbs().maxCoeff();
  if (!(m > 0.0) || !std::isfinite(m)) return 0;
  if (m >= std::ldexp(1.0, -400) && m <= std::ldexp(1.0, 400)) return 0;
  return std::ilogb(m);
}

Eigen::VectorXd to_safe_magnitude(const Eigen::VectorXd& y) {
  const int e = value_exponent(y);
  if (e == 0) return y;
  return y.unaryExpr([e](double v) { return std::ldexp(v, -e); });
}

Eigen::VectorXd warp_outputs(const Eigen::VectorXd& y, OutputWarping warping, double strength,
                             bool robust_scale) {
  const Eigen::Index n = y.size();
  const double hi = y.maxCoeff(), lo = y.minCoeff();
  if (warping == OutputWarping::kNone || !(hi > lo)) return y;
  if (warping == OutputWarping::kLog) {
    if (!(strength > 1.0)) return y;
    const double scale = std::log(strength);
    return y.unaryExpr(
        [&](double v) { return -std::log1p((strength - 1.0) * (hi - v) / (hi - lo)) / scale; });
  }
  std::vector<double> sorted(y.data(), y.data() + n);
  std::sort(sorted.begin(), sorted.end());
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  double ss = 0.0;
  std::vector<double> upper;
  for (double v : sorted) {
    if (v >= median) {
      ss += (v - median) * (v - median);
      upper.push_back(v - median);
    }
  }
  double sigma = std::sqrt(ss / std::max<std::size_t>(upper.size(), 1));
  if (robust_scale && !upper.empty()) {
    // The median of |X| for X ~ N(0, s^2) is 0.6745 s. Deviations are ascending already.
    const std::size_t k = upper.size();
    const double mid = k % 2 ? upper[k / 2] : 0.5 * (upper[k / 2 - 1] + upper[k / 2]);
    // Ties at the median (half the values equal) leave no spread there: keep the RMS then.
    if (mid > 0.0) sigma = 1.4826 * mid;
  }
  if (!(sigma > 0.0)) return y;
  const boost::math::normal normal;
  Eigen::VectorXd out = y;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (!(y(i) < median)) continue;
    // Mid-rank quantile of y(i) among all values (ties share their average rank), in (0, 0.5).
    const auto lo_it = std::lower_bound(sorted.begin(), sorted.end(), y(i));
    const auto hi_it = std::upper_bound(sorted.begin(), sorted.end(), y(i));
    const double rank =
        0.5 * static_cast<double>((lo_it - sorted.begin()) + (hi_it - sorted.begin()));
    const double q = rank / n;
    out(i) = median + sigma * boost::math::quantile(normal, std::clamp(q, 1e-12, 0.5));
  }
  return out;
}

}  // namespace gpbo
