#include "acquisition/qlognei.hpp"

#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <string>

#include "backend/backend.hpp"
#include "gpbo/error.hpp"
#include "numerics/sobol.hpp"

namespace gpbo {
namespace {

/// log(log1p(exp(x))), the log of the softplus, without overflow or underflow.
double log_softplus(double x) {
  if (x < -30.0) return x;  // log1p(e^x) = e^x (1 - e^x / 2 ...)
  if (x > 30.0) return std::log(x);
  return std::log(std::log1p(std::exp(x)));
}

Eigen::MatrixXd stack(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) {
  Eigen::MatrixXd P(A.rows() + B.rows(), A.cols());
  P.topRows(A.rows()) = A;
  P.bottomRows(B.rows()) = B;
  return P;
}

}  // namespace

QLogNei::QLogNei(const Backend& backend, const PosteriorFactor& factor, Eigen::MatrixXd baseline,
                 int max_batch, std::uint64_t seed, QLogNeiOptions options)
    : backend_(backend),
      factor_(factor),
      baseline_(std::move(baseline)),
      max_batch_(max_batch),
      options_(options) {
  if (baseline_.rows() < 1 || max_batch_ < 1 || options_.samples < 2 || !(options_.tau > 0.0)) {
    throw InvalidArgument("qLogNEI: needs a baseline point, max_batch >= 1, samples >= 2, tau > 0");
  }
  const int dims = static_cast<int>(baseline_.rows()) + max_batch_;
  SobolSampler sobol(dims, seed);
  const boost::math::normal normal;
  const Eigen::MatrixXd U = sobol.draw(options_.samples);  // samples x dims
  Z_.resize(dims, options_.samples);
  for (int s = 0; s < options_.samples; ++s) {
    for (int j = 0; j < dims; ++j) {
      Z_(j, s) = boost::math::quantile(normal, std::clamp(U(s, j), 1e-12, 1.0 - 1e-12));
    }
  }
}

double QLogNei::log_mean_softplus(const Eigen::VectorXd& I, double tau) {
  // log mean_s tau softplus(I_s / tau), by log-sum-exp over the draws.
  Eigen::VectorXd l(I.size());
  for (Eigen::Index s = 0; s < I.size(); ++s) l(s) = log_softplus(I(s) / tau);
  const double top = l.maxCoeff();
  return top + std::log((l.array() - top).exp().mean()) + std::log(tau);
}

Eigen::MatrixXd QLogNei::draws(const Eigen::MatrixXd& P, Eigen::MatrixXd* L_out) const {
  Eigen::VectorXd mean;
  factor_.predict(P, &mean, nullptr);
  const Eigen::MatrixXd L = backend_.cholesky(factor_.covariance(P, P));
  Eigen::MatrixXd F = L.triangularView<Eigen::Lower>() * Z_.topRows(P.rows());
  F.colwise() += mean;
  if (L_out) *L_out = L;
  return F;
}

double QLogNei::value(const Eigen::MatrixXd& S) const {
  if (S.rows() < 1 || S.rows() > max_batch_) {
    throw InvalidArgument("qLogNEI: batch of " + std::to_string(S.rows()) +
                          " points, expected 1.." + std::to_string(max_batch_));
  }
  const Eigen::Index b = baseline_.rows();
  const Eigen::MatrixXd F = draws(stack(baseline_, S), nullptr);
  const Eigen::VectorXd I =
      (F.bottomRows(S.rows()).colwise().maxCoeff() - F.topRows(b).colwise().maxCoeff()).transpose();
  return log_mean_softplus(I, options_.tau);
}

Eigen::VectorXd QLogNei::extend_scores(const Eigen::MatrixXd& S, const Eigen::MatrixXd& C) const {
  if (S.rows() + 1 > max_batch_) throw InvalidArgument("qLogNEI: batch larger than max_batch");
  const Eigen::Index b = baseline_.rows(), p = b + S.rows(), n = options_.samples;
  const Eigen::MatrixXd P = stack(baseline_, S);
  Eigen::MatrixXd L;
  const Eigen::MatrixXd F = draws(P, &L);
  Eigen::RowVectorXd reference = F.topRows(b).colwise().maxCoeff();
  Eigen::RowVectorXd batch_best = Eigen::RowVectorXd::Constant(n, -INFINITY);
  if (S.rows() > 0) batch_best = F.bottomRows(S.rows()).colwise().maxCoeff();

  // f(c) | f(P) = mu_c + W^T z_P + sqrt(var_c - |W_c|^2) z_new with W = L^{-1} Sigma_Pc: the
  // conditional form of the joint draw, so every candidate shares the draws of P.
  Eigen::VectorXd mean, var;
  factor_.predict(C, &mean, &var);
  Eigen::MatrixXd W = factor_.covariance(P, C);
  L.triangularView<Eigen::Lower>().solveInPlace(W);
  const Eigen::VectorXd resid_sd =
      (var - W.colwise().squaredNorm().transpose()).cwiseMax(0.0).cwiseSqrt();
  Eigen::MatrixXd Fc = W.transpose() * Z_.topRows(p);  // m x samples
  Fc.colwise() += mean;
  Fc.noalias() += resid_sd * Z_.row(p);
  Eigen::VectorXd scores(C.rows()), I(n);
  for (Eigen::Index c = 0; c < C.rows(); ++c) {
    for (Eigen::Index s = 0; s < n; ++s) I(s) = std::max(batch_best(s), Fc(c, s)) - reference(s);
    scores(c) = log_mean_softplus(I, options_.tau);
  }
  return scores;
}

}  // namespace gpbo
