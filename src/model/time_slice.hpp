#pragma once
// The posterior of a GP with a time input, seen at one time (StudyOptions::drift): the model is
// fitted on the encoded points plus a last column t (the trial's completion order scaled to
// [0, 1]), and every prediction, acquisition and fantasy is made at t = now. The acquisition
// search then moves only the space's own coordinates, as it holds the dimensions of inactive
// conditional parameters fixed, and the rest of the engine sees a factor of the space's
// dimension.

#include <Eigen/Core>
#include <memory>

#include "backend/backend.hpp"

namespace gpbo {

/// X (n x D) with a last column of `t` (length n).
Eigen::MatrixXd with_time_column(const Eigen::MatrixXd& X, const Eigen::VectorXd& t);

/// A factor over D + 1 columns seen as a factor over D at a fixed last coordinate `now`.
/// Scoring goes through predict() (the CUDA backend's fused scoring falls back to it for
/// factors that are not its own), gradients are those of the first D columns.
class TimeSliceFactor final : public PosteriorFactor {
 public:
  TimeSliceFactor(std::unique_ptr<PosteriorFactor> inner, double now);
  int size() const override { return inner_->size(); }
  double jitter() const override { return inner_->jitter(); }
  void predict(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean, Eigen::VectorXd* var,
               Eigen::MatrixXd* dmean = nullptr, Eigen::MatrixXd* dvar = nullptr) const override;
  void predict_bound(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean,
                     Eigen::VectorXd* var_bound) const override;
  Eigen::MatrixXd covariance(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const override;
  /// Fantasies (running trials) are observations that will be made now.
  void append(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& ynew) override;
  /// New rows are observations made now, as append()'s.
  void extend(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& y) override;
  void truncate(int n) override { inner_->truncate(n); }
  /// The conditioned inputs without their time column.
  Eigen::MatrixXd inputs() const override;
  std::unique_ptr<PosteriorFactor> clone() const override;

 private:
  Eigen::MatrixXd at_now(const Eigen::MatrixXd& X) const;
  std::unique_ptr<PosteriorFactor> inner_;
  double now_;
};

}  // namespace gpbo
