#include "acquisition/ehvi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>

#include "backend/acquisition_functors.hpp"
#include "gpbo/error.hpp"

namespace gpbo {
namespace {

/// |log h(z_u) - log h(z_l)| below which an interval counts as narrow. log(h_l - h_u) loses
/// digits to cancellation there: log h itself carries an absolute error that grows from ~1e-15
/// in the bulk to ~1e-10 at z = -30 (through erfcx), divided by |a| in the difference. Narrow
/// intervals use the midpoint rule with two correction terms instead, whose relative error is
/// ~ a^6 / 3e5 (~3e-12 at the switch).
constexpr double kNarrowLogRatio = 0.1;
/// Standardized distances are clamped to +-kMaxZ so that z^2 cannot overflow.
constexpr double kMaxZ = 1e100;

double clamp_z(double z) { return std::min(std::max(z, -kMaxZ), kMaxZ); }

/// log E[(min(Y, u) - l)^+] for Y ~ N(mu, s^2) and its partial derivatives in mu and s, for a
/// narrow interval [l, u]: s times the integral of Phi over [z_u, z_l], by the midpoint rule
/// with its w^2 and w^4 terms (w = (u - l) / s, at the midpoint z):
/// (u - l) Phi(z) (1 + w^2 Phi''/(24 Phi) + w^4 Phi''''/(1920 Phi)), where Phi''/Phi = -z rho,
/// Phi''''/Phi = (3z - z^3) rho and rho = phi / Phi.
void narrow_interval(double mu, double s, double l, double u, double* lg, double* gmu, double* gs) {
  const double w2 = (u - l) * (u - l) / (s * s);
  const double z = clamp_z((mu - 0.5 * (l + u)) / s);
  double lc, rho;
  acq_detail::log_ndtr_and_ratio(z, &lc, &rho);
  const double drho = -z * rho - rho * rho;  // d rho / dz
  const double c2 = w2 / 24.0, c4 = w2 * w2 / 1920.0;
  const double t2 = -z * rho, dt2 = -rho - z * drho;
  const double t4 = (3.0 * z - z * z * z) * rho;
  const double dt4 = (3.0 - 3.0 * z * z) * rho + (3.0 * z - z * z * z) * drho;
  const double q = 1.0 + c2 * t2 + c4 * t4;
  const double dq = c2 * dt2 + c4 * dt4;  // d q / dz at fixed w
  *lg = std::log(u - l) + lc + std::log(q);
  // dz/dmu = 1/s; dz/ds = -z/s and dw^k/ds = -k w^k / s.
  *gmu = (rho + dq / q) / s;
  *gs = (-z * (rho + dq / q) - (2.0 * c2 * t2 + 4.0 * c4 * t4) / q) / s;
}

}  // namespace

struct LogEhvi::Workspace {
  std::vector<double> z, lh, dlh;   // per breakpoint
  std::vector<double> lg, gmu, gs;  // per interval: log E[...] and its partials
  std::vector<double> weight;       // per interval: summed softmax weight of its boxes
  std::vector<double> box;          // per box: log value, then exp(value - max)
};

LogEhvi::LogEhvi(const BoxDecomposition& boxes) : m_(boxes.lower.cols()) {
  const Eigen::MatrixXd& lo = boxes.lower;
  const Eigen::MatrixXd& up = boxes.upper;
  if (m_ == 0 || lo.rows() == 0 || up.rows() != lo.rows() || up.cols() != m_) {
    throw InvalidArgument("LogEhvi: boxes of shapes " + std::to_string(lo.rows()) + "x" +
                          std::to_string(lo.cols()) + " and " + std::to_string(up.rows()) + "x" +
                          std::to_string(up.cols()));
  }
  if (!lo.allFinite() || up.hasNaN()) {
    throw InvalidArgument("LogEhvi: non-finite lower or NaN upper box corner");
  }
  std::vector<Eigen::Index> kept;
  for (Eigen::Index b = 0; b < lo.rows(); ++b) {
    if ((up.row(b).array() > lo.row(b).array()).all()) kept.push_back(b);
  }
  if (kept.empty()) throw InvalidArgument("LogEhvi: every box is empty");
  box_interval_.resize(kept.size() * static_cast<std::size_t>(m_));
  break_begin_.push_back(0);
  interval_begin_.push_back(0);
  for (Eigen::Index j = 0; j < m_; ++j) {
    std::vector<double> axis;
    for (Eigen::Index b : kept) {
      axis.push_back(lo(b, j));
      if (std::isfinite(up(b, j))) axis.push_back(up(b, j));
    }
    std::sort(axis.begin(), axis.end());
    axis.erase(std::unique(axis.begin(), axis.end()), axis.end());
    const int offset = static_cast<int>(breaks_.size());
    const auto index_of = [&](double v) {
      return offset +
             static_cast<int>(std::lower_bound(axis.begin(), axis.end(), v) - axis.begin());
    };
    std::map<std::pair<int, int>, int> intervals;
    for (std::size_t k = 0; k < kept.size(); ++k) {
      const Eigen::Index b = kept[k];
      const std::pair<int, int> key{index_of(lo(b, j)),
                                    std::isfinite(up(b, j)) ? index_of(up(b, j)) : -1};
      auto it = intervals.find(key);
      if (it == intervals.end()) {
        it = intervals.emplace(key, static_cast<int>(interval_lo_.size())).first;
        interval_lo_.push_back(key.first);
        interval_up_.push_back(key.second);
      }
      box_interval_[k * static_cast<std::size_t>(m_) + static_cast<std::size_t>(j)] = it->second;
    }
    breaks_.insert(breaks_.end(), axis.begin(), axis.end());
    break_begin_.push_back(static_cast<int>(breaks_.size()));
    interval_begin_.push_back(static_cast<int>(interval_lo_.size()));
  }
}

double LogEhvi::evaluate(const double* mu, const double* sigma, Workspace& ws, double* dmu,
                         double* dsigma) const {
  const bool grad = dmu != nullptr || dsigma != nullptr;
  ws.z.resize(breaks_.size());
  ws.lh.resize(breaks_.size());
  ws.dlh.resize(breaks_.size());
  ws.lg.resize(interval_lo_.size());
  ws.gmu.resize(interval_lo_.size());
  ws.gs.resize(interval_lo_.size());
  for (Eigen::Index j = 0; j < m_; ++j) {
    const double s = sigma[j] > kMinEhviSigma ? sigma[j] : kMinEhviSigma;
    const double log_s = std::log(s);
    for (int b = break_begin_[j]; b < break_begin_[j + 1]; ++b) {
      ws.z[b] = clamp_z((mu[j] - breaks_[b]) / s);
      acq_detail::log_h_and_grad(ws.z[b], &ws.lh[b], &ws.dlh[b]);
    }
    for (int p = interval_begin_[j]; p < interval_begin_[j + 1]; ++p) {
      const int l = interval_lo_[p], u = interval_up_[p];
      // d/dmu log h(z) = dlh / s and d/ds log h(z) = -z dlh / s; phi / h = 1 - z dlh.
      if (u < 0) {
        ws.lg[p] = log_s + ws.lh[l];
        ws.gmu[p] = ws.dlh[l] / s;
        ws.gs[p] = (1.0 - ws.z[l] * ws.dlh[l]) / s;
        continue;
      }
      const double a = ws.lh[u] - ws.lh[l];  // log(h_u / h_l) < 0
      if (a < -kNarrowLogRatio) {
        ws.lg[p] = log_s + ws.lh[l] + acq_detail::log1mexp(a);
        if (grad) {
          // d log(h_l - h_u) = (h_l d log h_l - h_u d log h_u) / (h_l - h_u), r = h_u / h_l.
          const double r = std::exp(a);
          const double denom = -std::expm1(a) * s;
          ws.gmu[p] = (ws.dlh[l] - r * ws.dlh[u]) / denom;
          ws.gs[p] = ((1.0 - ws.z[l] * ws.dlh[l]) - r * (1.0 - ws.z[u] * ws.dlh[u])) / denom;
        }
      } else {
        narrow_interval(mu[j], s, breaks_[l], breaks_[u], &ws.lg[p], &ws.gmu[p], &ws.gs[p]);
      }
    }
  }
  // Log-sum-exp over the boxes of the sum of their intervals' logs.
  const std::size_t K = box_interval_.size() / static_cast<std::size_t>(m_);
  ws.box.resize(K);
  double top = -std::numeric_limits<double>::infinity();
  const int* iv = box_interval_.data();
  for (std::size_t k = 0; k < K; ++k, iv += m_) {
    double v = 0.0;
    for (Eigen::Index j = 0; j < m_; ++j) v += ws.lg[iv[j]];
    ws.box[k] = v;
    top = std::max(top, v);
  }
  double sum = 0.0;
  for (std::size_t k = 0; k < K; ++k) {
    ws.box[k] = std::exp(ws.box[k] - top);
    sum += ws.box[k];
  }
  const double value = top + std::log(sum);
  if (!grad) return value;
  ws.weight.assign(interval_lo_.size(), 0.0);
  iv = box_interval_.data();
  for (std::size_t k = 0; k < K; ++k, iv += m_) {
    const double w = ws.box[k] / sum;
    for (Eigen::Index j = 0; j < m_; ++j) ws.weight[iv[j]] += w;
  }
  for (Eigen::Index j = 0; j < m_; ++j) {
    double gm = 0.0, gsig = 0.0;
    for (int p = interval_begin_[j]; p < interval_begin_[j + 1]; ++p) {
      gm += ws.weight[p] * ws.gmu[p];
      gsig += ws.weight[p] * ws.gs[p];
    }
    if (dmu != nullptr) dmu[j] = gm;
    if (dsigma != nullptr) dsigma[j] = sigma[j] > kMinEhviSigma ? gsig : 0.0;
  }
  return value;
}

double LogEhvi::value(const Eigen::VectorXd& mu, const Eigen::VectorXd& sigma, Eigen::VectorXd* dmu,
                      Eigen::VectorXd* dsigma) const {
  if (mu.size() != m_ || sigma.size() != m_) {
    throw InvalidArgument("LogEhvi: mu and sigma of sizes " + std::to_string(mu.size()) + " and " +
                          std::to_string(sigma.size()) + " for " + std::to_string(m_) +
                          " objectives");
  }
  Workspace ws;
  if (dmu != nullptr) dmu->resize(m_);
  if (dsigma != nullptr) dsigma->resize(m_);
  return evaluate(mu.data(), sigma.data(), ws, dmu != nullptr ? dmu->data() : nullptr,
                  dsigma != nullptr ? dsigma->data() : nullptr);
}

Eigen::VectorXd LogEhvi::values(const Eigen::MatrixXd& mu, const Eigen::MatrixXd& sigma) const {
  if (mu.cols() != m_ || sigma.cols() != m_ || sigma.rows() != mu.rows()) {
    throw InvalidArgument("LogEhvi: mu and sigma of shapes " + std::to_string(mu.rows()) + "x" +
                          std::to_string(mu.cols()) + " and " + std::to_string(sigma.rows()) + "x" +
                          std::to_string(sigma.cols()) + " for " + std::to_string(m_) +
                          " objectives");
  }
  Workspace ws;
  Eigen::VectorXd out(mu.rows());
  Eigen::VectorXd mu_row(m_), sigma_row(m_);
  for (Eigen::Index i = 0; i < mu.rows(); ++i) {
    mu_row = mu.row(i).transpose();
    sigma_row = sigma.row(i).transpose();
    out(i) = evaluate(mu_row.data(), sigma_row.data(), ws, nullptr, nullptr);
  }
  return out;
}

double log_ehvi(const BoxDecomposition& boxes, const Eigen::VectorXd& mu,
                const Eigen::VectorXd& sigma, Eigen::VectorXd* dmu, Eigen::VectorXd* dsigma) {
  return LogEhvi(boxes).value(mu, sigma, dmu, dsigma);
}

}  // namespace gpbo
