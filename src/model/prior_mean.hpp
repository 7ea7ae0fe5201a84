#pragma once
// Transfer from earlier studies as a prior mean: a stack of residual GPs (Golovin et al. 2017,
// "Google Vizier", sec. 3.3). Each level is a GP fitted to the residuals of its study's
// standardized values against the mean of the levels below it, scaled by a fitted weight; the
// new study's GP fits its residuals against the whole stack the same way. The posterior mean is
// the stack's mean plus the residual GP's; the variance is the residual GP's plus the stack's
// own (each level's posterior variance, scaled by the weights above it), as for a sum of
// independent GPs: where no study has looked, the model stays unsure however well the prior
// fits the new study's points, so a region that the earlier studies never explored still gets
// explored.

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <vector>

#include "backend/backend.hpp"
#include "gpbo/gp.hpp"
#include "gpbo/kernel.hpp"

namespace gpbo {

/// How a GP fitted on top of a prior mean p(x) sees its data y (internally maximized, any
/// scale): z = (y - mu) / sd, and the GP fits the residuals z - weight * p(x).
struct PriorFit {
  double mu = 0.0;
  double sd = 1.0;
  /// >= 0; 0 when the prior did not help (see fit_on_prior).
  double weight = 0.0;
  /// Whether the marginal-likelihood comparison ran (at least kMinGateObservations points and
  /// the hyperparameters were fitted, not fixed).
  bool compared = false;
  /// The residuals the GP was given (z - weight * p).
  Eigen::VectorXd residuals;
};

/// Fewest observations for which the own scale (mean, standard deviation) of y and the
/// comparison with and without the prior are used; below, `sd_hint` gives the scale and the
/// weight is its prior value (1: "the same function, on the same standardized scale").
constexpr Eigen::Index kMinGateObservations = 3;

/// Fits (or, with `fixed`, conditions) `gp` on X and the residuals of y against p (p's values at
/// X's rows, in p's standardized units). The weight is a ridge regression of z on p pulled
/// towards 1 with the strength of one observation, clipped to [0, 3]; with at least
/// kMinGateObservations points and no fixed hyperparameters the GP is also fitted to z alone,
/// and the prior is dropped (weight 0, that fit kept) when its log marginal likelihood of z is
/// not higher: negative transfer costs one extra fit per ask, not a misled model.
PriorFit fit_on_prior(GaussianProcess* gp, const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                      const Eigen::VectorXd& p, double sd_hint, std::uint64_t seed,
                      const GpHyperparameters* warm, const GpHyperparameters* fixed);

/// The stacked prior mean of earlier studies, on the encoded columns of a new space.
class StackedPrior {
 public:
  StackedPrior(GpOptions options, Device device, ScorePrecision scoring);
  ~StackedPrior();

  /// Adds a level on top: X (n x columns.size()) are points on `columns` of the new space's
  /// encoding, y their values (internally maximized). With `fixed`, the level's GP is
  /// conditioned on those hyperparameters instead of fitted. Throws InvalidArgument for empty or
  /// mismatched data.
  void add_level(const Eigen::MatrixXd& X, std::vector<int> columns, const Eigen::VectorXd& y,
                 std::uint64_t seed, const GpHyperparameters* fixed);
  /// The top level's mean at the rows of Xc (m x D, the new space's encoding), in the top
  /// level's standardized units, and its posterior variance; `dmean`, `dvar` (m x D), when not
  /// null, their gradients. Zero without levels. `var` may be null.
  void predict(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean, Eigen::MatrixXd* dmean,
               Eigen::VectorXd* var = nullptr, Eigen::MatrixXd* dvar = nullptr) const;
  /// The top level's posterior covariance between the rows of A and B (the new space's
  /// encoding), in its standardized units.
  Eigen::MatrixXd covariance(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const;
  /// The standard deviation of the top level's values (1 without levels): the scale a new study
  /// with too few values of its own is assumed to share.
  double top_sd() const;
  std::size_t size() const { return levels_.size(); }
  /// Each level's GP hyperparameters, bottom first.
  std::vector<GpHyperparameters> hyperparameters() const;
  /// Each level's fit (its weight on the levels below), bottom first.
  std::vector<PriorFit> fits() const;

 private:
  struct Level {
    std::vector<int> columns;
    std::unique_ptr<GaussianProcess> gp;
    PriorFit fit;
  };
  /// The mean and variance of levels [0, top) at Xc, as predict().
  void predict_below(std::size_t top, const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean,
                     Eigen::MatrixXd* dmean, Eigen::VectorXd* var, Eigen::MatrixXd* dvar) const;
  GpOptions options_;
  Device device_;
  ScorePrecision scoring_;
  std::vector<Level> levels_;
};

/// A posterior factor with a prior mean: mean = inner mean + scale * prior(x), variance = inner
/// variance + scale^2 * prior variance (covariance likewise), in the inner factor's
/// standardized units. Appended observations (fantasies) condition the inner factor only, on
/// their residuals. Works with every
/// backend: scoring goes through predict() (the CUDA backend's fused scoring falls back to it
/// for factors that are not its own).
class PriorMeanFactor final : public PosteriorFactor {
 public:
  PriorMeanFactor(std::unique_ptr<PosteriorFactor> inner, std::shared_ptr<const StackedPrior> prior,
                  double scale);
  int size() const override { return inner_->size(); }
  double jitter() const override { return inner_->jitter(); }
  void predict(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean, Eigen::VectorXd* var,
               Eigen::MatrixXd* dmean = nullptr, Eigen::MatrixXd* dvar = nullptr) const override;
  void predict_bound(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean,
                     Eigen::VectorXd* var_bound) const override;
  Eigen::MatrixXd covariance(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const override;
  void append(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& ynew) override;
  void extend(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& y) override;
  void truncate(int n) override { inner_->truncate(n); }
  Eigen::MatrixXd inputs() const override { return inner_->inputs(); }
  std::unique_ptr<PosteriorFactor> clone() const override;

 private:
  std::unique_ptr<PosteriorFactor> inner_;
  std::shared_ptr<const StackedPrior> prior_;
  double scale_;
};

}  // namespace gpbo
