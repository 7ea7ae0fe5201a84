// A GP with a time input seen at one time (model/time_slice.hpp).
#include "model/time_slice.hpp"

namespace gpbo {

Eigen::MatrixXd with_time_column(const Eigen::MatrixXd& X, const Eigen::VectorXd& t) {
  Eigen::MatrixXd out(X.rows(), X.cols() + 1);
  out.leftCols(X.cols()) = X;
  out.col(X.cols()) = t;
  return out;
}

TimeSliceFactor::TimeSliceFactor(std::unique_ptr<PosteriorFactor> inner, double now)
    : inner_(std::move(inner)), now_(now) {}

Eigen::MatrixXd TimeSliceFactor::at_now(const Eigen::MatrixXd& X) const {
  return with_time_column(X, Eigen::VectorXd::Constant(X.rows(), now_));
}

void TimeSliceFactor::predict(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean,
                              Eigen::VectorXd* var, Eigen::MatrixXd* dmean,
                              Eigen::MatrixXd* dvar) const {
  Eigen::MatrixXd dm, dv;
  inner_->predict(at_now(Xc), mean, var, dmean ? &dm : nullptr, dvar ? &dv : nullptr);
  if (dmean) *dmean = dm.leftCols(Xc.cols());
  if (dvar) *dvar = dv.leftCols(Xc.cols());
}

Eigen::MatrixXd TimeSliceFactor::covariance(const Eigen::MatrixXd& A,
                                            const Eigen::MatrixXd& B) const {
  return inner_->covariance(at_now(A), at_now(B));
}

void TimeSliceFactor::append(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& ynew) {
  inner_->append(at_now(Xnew), ynew);
}

void TimeSliceFactor::predict_bound(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean,
                                    Eigen::VectorXd* var_bound) const {
  inner_->predict_bound(at_now(Xc), mean, var_bound);
}

void TimeSliceFactor::extend(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& y) {
  inner_->extend(at_now(Xnew), y);
}

Eigen::MatrixXd TimeSliceFactor::inputs() const {
  const Eigen::MatrixXd X = inner_->inputs();
  return X.leftCols(X.cols() - 1);
}

std::unique_ptr<PosteriorFactor> TimeSliceFactor::clone() const {
  return std::make_unique<TimeSliceFactor>(inner_->clone(), now_);
}

}  // namespace gpbo
