// A Study's model-based suggestions: the training data, the fit (or the kept hyperparameters),
// fantasies of the running trials, and the batch: sequential greedy, qLogNEI or Thompson
// sampling, globally or in trust regions; no suggestion repeats a trial or another of its batch.
#include <algorithm>
#include <numeric>
#include <string>
#include <unordered_set>
#include <utility>

#include "acquisition/qlognei.hpp"
#include "acquisition/thompson.hpp"
#include "backend/backend.hpp"
#include "common/clock.hpp"
#include "engine/pruner.hpp"
#include "engine/resident_factor.hpp"
#include "gpbo/error.hpp"
#include "gpbo/gp.hpp"
#include "gpbo/study.hpp"
#include "model/outliers.hpp"
#include "model/prior_mean.hpp"
#include "model/time_slice.hpp"
#include "optim/acquisition_optimizer.hpp"
#include "optim/trust_region.hpp"

namespace gpbo {
namespace {

/// Two encoded points closer than this in every coordinate are the same suggestion.
constexpr double kDuplicateTol = 1e-9;
/// Auto noise model: noisy when the fitted noise exceeds this share of the signal variance.
constexpr double kNoisyShare = 0.05;
/// Observed points (best posterior mean first) that qLogNEI compares a batch against.
constexpr int kMaxNeiBaseline = 64;
/// Auto batch method: sequential greedy (or qLogNEI when noisy and q > 1) up to this q, Thompson
/// above.
constexpr int kMaxGreedyBatch = 16;
/// Outlier checks (StudyOptions::robust): the fewest observations with `on`, the range with
/// `auto`, and the rounds of leave-out-and-refit per fit.
constexpr Eigen::Index kMinOutlierCheck = 5;
constexpr Eigen::Index kMinAutoOutlierCheck = 10;
constexpr Eigen::Index kMaxAutoOutlierCheck = 2000;
constexpr int kOutlierRounds = 3;

}  // namespace

BatchMethod resolve_batch_method(BatchMethod requested, int q, bool noisy) {
  if (requested != BatchMethod::kAuto) return requested;
  if (q > kMaxGreedyBatch) return BatchMethod::kThompson;
  // One point: LogEI against the best posterior mean already handles noise (and is what the
  // single-point regret figures measure); qLogNEI pays off once a batch is chosen jointly.
  return noisy && q > 1 ? BatchMethod::kQLogNei : BatchMethod::kGreedy;
}

std::vector<Eigen::Index> Study::training_data(Eigen::MatrixXd* X, Eigen::VectorXd* y,
                                               const Eigen::VectorXd* center,
                                               const std::vector<bool>* skip) const {
  const bool maximize = options_.direction == Direction::kMaximize;
  // With drift the values keep their levels: a warping ranks them over the whole history,
  // which mixes periods and flattens a change of level into a change of rank.
  const OutputWarping warping = drift_on() ? OutputWarping::kNone : options_.output_warping;
  std::vector<Eigen::Index> done;
  for (std::size_t i = 0; i < trials_.size(); ++i) {
    if (models_value(trials_[i]) && !(skip && (*skip)[i])) {
      done.push_back(static_cast<Eigen::Index>(i));
    }
  }
  // Several regions compare Thompson draws of different local models: their values must be on
  // one scale, so every complete value is warped once, before any subset is taken.
  const bool warp_all = regions_.size() > 1;
  std::vector<double> warped;
  if (warp_all) {
    Eigen::VectorXd all(static_cast<Eigen::Index>(done.size()));
    for (std::size_t j = 0; j < done.size(); ++j) {
      const double v = *trials_[done[j]].value;
      all(static_cast<Eigen::Index>(j)) = maximize ? v : -v;
    }
    all = warp_outputs(to_safe_magnitude(all), warping, options_.warp_strength,
                       options_.robust != RobustMode::kOff);
    warped.assign(trials_.size(), 0.0);
    for (std::size_t j = 0; j < done.size(); ++j)
      warped[done[j]] = all(static_cast<Eigen::Index>(j));
  }
  if (center) keep_nearest(&done, *center);
  X->resize(static_cast<Eigen::Index>(done.size()), space_.encoded_dim());
  y->resize(static_cast<Eigen::Index>(done.size()));  // internally maximized
  for (std::size_t j = 0; j < done.size(); ++j) {
    X->row(j) = encoded_[done[j]].transpose();
    const double v = *trials_[done[j]].value;
    (*y)(j) = warp_all ? warped[done[j]] : maximize ? v : -v;
  }
  if (!warp_all) {
    *y = warp_outputs(to_safe_magnitude(*y), warping, options_.warp_strength,
                      options_.robust != RobustMode::kOff);
  }
  return done;
}

void Study::keep_nearest(std::vector<Eigen::Index>* rows, const Eigen::VectorXd& center) const {
  const int max_points = options_.trust_region.max_points;
  if (max_points <= 0 || static_cast<int>(rows->size()) <= max_points) return;
  // A local model: the trials nearest the centre (the region's own data among them) decide what
  // happens inside the region, and the fit stays O(max_points^3) however long the study.
  std::vector<double> dist(trials_.size());
  for (Eigen::Index i : *rows) dist[i] = (encoded_[i] - center).squaredNorm();
  std::nth_element(rows->begin(), rows->begin() + max_points, rows->end(),
                   [&](Eigen::Index a, Eigen::Index b) { return dist[a] < dist[b]; });
  rows->resize(static_cast<std::size_t>(max_points));
  std::sort(rows->begin(), rows->end());
}

const Eigen::VectorXd& Study::fit_or_condition(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                               std::unique_ptr<PosteriorFactor> kept) {
  const Stopwatch watch;
  const bool fixed = hyper_fixed_ && last_hyper_ && last_hyper_->lengthscales.size() == model_dim();
  if (!warm_sources_.empty()) {
    const StackedPrior& prior = transfer_prior();
    Eigen::VectorXd p;
    prior.predict(X, &p, nullptr);
    const PriorFit f =
        fit_on_prior(gp_.get(), X, y, p, prior.top_sd(), rng_(),
                     last_hyper_ ? &*last_hyper_ : nullptr, fixed ? &*last_hyper_ : nullptr);
    // y = mu + sd * (weight * p + r), and the GP standardizes r: in its units the mean is
    // weight * p / y_scale plus its own.
    transfer_weight_ = f.weight;
    prior_scale_ = f.weight / gp_->y_scale();
    model_y_mean_ = f.mu + f.sd * gp_->y_mean();
    model_y_scale_ = f.sd * gp_->y_scale();
    fit_y_ = f.residuals;
  } else {
    if (fixed) {
      gp_->condition(X, y, *last_hyper_, std::move(kept));
      last_split_.resident = gp_->reused_factor();
    } else {
      gp_->fit(X, y, rng_(), last_hyper_ ? &*last_hyper_ : nullptr);
    }
    model_y_mean_ = gp_->y_mean();
    model_y_scale_ = gp_->y_scale();
    fit_y_ = y;
  }
  last_hyper_ = gp_->hyperparameters();
  // Conditioning on fixed hyperparameters is all factorization; a fit is the rest.
  const double elapsed = watch.seconds();
  const double factor = fixed ? elapsed : std::min(elapsed, gp_->last_seconds().factor);
  last_split_.factor += factor;
  last_split_.fit += elapsed - factor;
  return fit_y_;
}

std::unique_ptr<PosteriorFactor> Study::take_model_factor() {
  // The GP's own factor, never a copy: an ask needs no second n x n matrix (80 GB at
  // n = 100,000), and the GP is fitted or conditioned again before its next use.
  std::unique_ptr<PosteriorFactor> f = gp_->release_factor();
  if (drift_on()) return std::make_unique<TimeSliceFactor>(std::move(f), 1.0);  // now
  if (!prior_ || transfer_weight() == 0.0) return f;
  return std::make_unique<PriorMeanFactor>(std::move(f), prior_, prior_scale_);
}

void Study::keep_resident_factor(std::unique_ptr<ResidentFactor> kept) {
  keep_resident_ = true;
  resident_ = std::move(kept);
}

std::unique_ptr<ResidentFactor> Study::take_resident_factor() { return std::move(resident_); }

bool Study::keeps_resident() const {
  // A warm start's factor carries the transferred prior, the metric model one GP per metric,
  // several trust regions several local models, and with drift every row's time moves as the
  // study grows: none of them is kept.
  return keep_resident_ && warm_sources_.empty() && !uses_metric_model() && !drift_on() &&
         !(strategy() == Strategy::kTrustRegion && options_.trust_region.n_regions > 1);
}

std::unique_ptr<PosteriorFactor> Study::usable_resident(std::vector<Eigen::Index>* rows,
                                                        Eigen::MatrixXd* X, Eigen::VectorXd* y) {
  const std::unique_ptr<ResidentFactor> r = std::move(resident_);  // used at most once
  if (!keeps_resident() || !r || !r->factor || !hyper_fixed_ || !last_hyper_ ||
      !same_hyperparameters(r->hyper, *last_hyper_)) {
    return nullptr;
  }
  const std::size_t k = r->trial_ids.size();
  if (static_cast<int>(k) != r->factor->size() || k > rows->size()) return nullptr;
  // The kept rows first, in the factor's order (trials can complete out of order), then the
  // trials completed since, in trial order. Row order changes nothing in the posterior.
  std::vector<Eigen::Index> pos(trials_.size(), -1);
  for (std::size_t j = 0; j < rows->size(); ++j) pos[(*rows)[j]] = static_cast<Eigen::Index>(j);
  std::vector<Eigen::Index> order;
  order.reserve(rows->size());
  std::vector<bool> used(rows->size(), false);
  for (std::int64_t id : r->trial_ids) {
    if (id < 0 || id >= static_cast<std::int64_t>(trials_.size())) return nullptr;
    const Eigen::Index j = pos[static_cast<std::size_t>(id)];
    if (j < 0 || used[static_cast<std::size_t>(j)]) return nullptr;  // no longer modelled
    used[static_cast<std::size_t>(j)] = true;
    order.push_back(j);
  }
  for (std::size_t j = 0; j < rows->size(); ++j) {
    if (!used[j]) order.push_back(static_cast<Eigen::Index>(j));
  }
  Eigen::MatrixXd Xp(X->rows(), X->cols());
  Eigen::VectorXd yp(y->size());
  std::vector<Eigen::Index> rp(rows->size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Eigen::Index o = order[i], ii = static_cast<Eigen::Index>(i);
    Xp.row(ii) = X->row(o);
    yp(ii) = (*y)(o);
    rp[i] = (*rows)[static_cast<std::size_t>(o)];
  }
  // The same inputs, bit for bit: whatever the ids say, a factor is only reused for the points
  // it was made from.
  if (r->factor->inputs() != Xp.topRows(static_cast<Eigen::Index>(k))) return nullptr;
  *X = std::move(Xp);
  *y = std::move(yp);
  *rows = std::move(rp);
  return std::move(r->factor);
}

void Study::keep_resident(std::unique_ptr<PosteriorFactor> factor,
                          const std::vector<Eigen::Index>& rows) {
  if (!keeps_resident() || !factor || !last_hyper_) return;
  factor->truncate(static_cast<int>(rows.size()));  // drops the fantasies
  auto r = std::make_unique<ResidentFactor>();
  r->hyper = *last_hyper_;
  r->trial_ids.reserve(rows.size());
  for (Eigen::Index i : rows) r->trial_ids.push_back(trials_[static_cast<std::size_t>(i)].id);
  r->factor = std::move(factor);
  resident_ = std::move(r);
}

bool Study::checks_outliers(Eigen::Index n) const {
  switch (options_.robust) {
    case RobustMode::kOff:
      return false;
    case RobustMode::kOn:
      return n >= kMinOutlierCheck;
    case RobustMode::kAuto:
      return n >= kMinAutoOutlierCheck && n <= kMaxAutoOutlierCheck;
  }
  return false;
}

std::unique_ptr<PosteriorFactor> Study::fit_model(const Eigen::VectorXd* center, Eigen::MatrixXd* X,
                                                  Eigen::VectorXd* y,
                                                  std::vector<Eigen::Index>* rows) {
  *rows = training_data(X, y, center);
  std::unique_ptr<PosteriorFactor> kept = usable_resident(rows, X, y);
  // With drift the GP sees a time column too; X stays the space's encoding for the callers.
  Eigen::MatrixXd Xg = model_inputs(*X, *rows);
  const Eigen::VectorXd* fitted = &fit_or_condition(Xg, *y, std::move(kept));
  if (drift_on()) judge_reevaluations(Xg, *fitted, *rows);
  // Each round leaves out what the last fit found implausible and fits again: a large outlier
  // inflates the fitted noise and can hide a smaller one until it is gone. Every fit starts
  // from all the data, so a value flagged once comes back when later trials support it.
  std::vector<bool> skip;
  for (int round = 0; round < kOutlierRounds && checks_outliers(X->rows()); ++round) {
    const std::vector<Eigen::Index> flagged = find_outliers(*gp_, Xg, *fitted);
    if (flagged.empty()) break;
    skip.resize(trials_.size(), false);
    for (Eigen::Index j : flagged) {
      const Eigen::Index i = (*rows)[static_cast<std::size_t>(j)];
      skip[static_cast<std::size_t>(i)] = true;
      outliers_.push_back(trials_[static_cast<std::size_t>(i)].id);
    }
    *rows = training_data(X, y, center, &skip);
    Xg = model_inputs(*X, *rows);
    fitted = &fit_or_condition(Xg, *y);
  }
  std::sort(outliers_.begin(), outliers_.end());
  outliers_.erase(std::unique(outliers_.begin(), outliers_.end()), outliers_.end());
  return take_model_factor();
}

std::unique_ptr<PosteriorFactor> Study::condition_on_running(
    std::unique_ptr<PosteriorFactor> factor, double* best_f) const {
  // Running trials (this batch's earlier points included) as fantasies at their posterior mean
  // (kriging believer): no refit, and the acquisition collapses around them.
  std::vector<Eigen::Index> running;
  for (std::size_t i = 0; i < trials_.size(); ++i) {
    if (trials_[i].state == TrialState::kRunning) running.push_back(static_cast<Eigen::Index>(i));
  }
  if (running.empty()) return factor;
  Eigen::MatrixXd Xr(running.size(), space_.encoded_dim());
  for (std::size_t j = 0; j < running.size(); ++j) Xr.row(j) = encoded_[running[j]].transpose();
  Eigen::VectorXd mu;
  factor->predict(Xr, &mu, nullptr);
  try {
    factor->append(Xr, mu);
    // A believed value is an observation: it can raise the incumbent, or the acquisition would
    // keep rewarding points whose mean already beats it, however certain they are.
    if (best_f) *best_f = std::max(*best_f, mu.maxCoeff());
  } catch (const NumericalError&) {
    // Keep going without fantasies rather than fail the ask (a failed append leaves the factor
    // as it was).
  }
  return factor;
}

std::optional<GpHyperparameters> Study::fit_hyperparameters() {
  if (uses_metric_model()) return std::nullopt;
  if (std::none_of(trials_.begin(), trials_.end(), models_value)) return std::nullopt;
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  std::vector<Eigen::Index> rows;
  const bool local = strategy() == Strategy::kTrustRegion && !regions_.empty();
  const bool fixed = std::exchange(hyper_fixed_, false);  // a refit, whatever was kept
  outliers_.clear();
  keep_resident(fit_model(local ? &regions_[0].center : nullptr, &X, &y, &rows), rows);
  hyper_fixed_ = fixed;
  return last_hyper_;
}

void Study::suggest_from_model(int k) {
  if (uses_metric_model()) {
    suggest_with_metrics(k);
    return;
  }
  const bool tr = strategy() == Strategy::kTrustRegion;
  if (tr) update_trust_regions(k);
  if (tr && regions_.size() > 1) {
    suggest_from_trust_regions(k);
    return;
  }
  const int D = space_.encoded_dim();
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  std::vector<Eigen::Index> done;
  outliers_.clear();
  std::unique_ptr<PosteriorFactor> factor =
      fit_model(tr ? &regions_[0].center : nullptr, &X, &y, &done);
  // However the batch ends, the factor (its fantasies dropped) stays for the next ask.
  struct KeepResident {
    Study* study;
    std::unique_ptr<PosteriorFactor>* factor;
    const std::vector<Eigen::Index>* rows;
    ~KeepResident() {
      try {
        study->keep_resident(std::move(*factor), *rows);
      } catch (const std::exception&) {
        // Not kept: the next ask factors from scratch.
      }
    }
  } keep{this, &factor, &done};
  const GpHyperparameters& h = *last_hyper_;

  AcquisitionParams acq;
  acq.type = options_.acquisition;
  acq.beta = options_.ucb_beta;
  const bool noisy =
      options_.noise == NoiseModel::kNoisy ||
      (options_.noise == NoiseModel::kAuto && h.noise > kNoisyShare * (h.noise + h.outputscale));
  // With drift an observed value may be stale: the incumbent is the best posterior mean now.
  Eigen::VectorXd score = (y.array() - model_y_mean_) / model_y_scale_;
  if (noisy || drift_on()) factor->predict(X, &score, nullptr);
  acq.best_f = score.maxCoeff();
  std::vector<Eigen::Index> order(done.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return score(a) > score(b); });
  // At most one re-evaluation of the incumbent per batch; it is running, so conditioned on.
  if (!order.empty() && reevaluation_due(k) &&
      reevaluate(static_cast<std::size_t>(done[static_cast<std::size_t>(order[0])]))) {
    --k;
  }
  factor = condition_on_running(std::move(factor), &acq.best_f);

  const int n_anchor = std::min<int>(options_.optimizer.anchors, static_cast<int>(order.size()));
  Eigen::MatrixXd anchors(n_anchor, D);
  for (int a = 0; a < n_anchor; ++a) anchors.row(a) = X.row(order[a]);

  last_batch_method_ = resolve_batch_method(options_.batch_method, k, noisy);
  const Backend& backend = gp_->backend();
  // Trust region: candidates only inside the box, Thompson sampling unless a method was named
  // (TuRBO's default).
  int n_region = 0;
  if (tr) {
    if (options_.batch_method == BatchMethod::kAuto) last_batch_method_ = BatchMethod::kThompson;
    tr_boxes_.resize(1);
    tr_boxes_[0] =
        trust_region_bounds(space_, regions_[0].center, h.lengthscales.head(D), regions_[0].length);
    n_region = trust_region_candidate_count(k);
  }
  if (k == 0) return;  // the batch was the re-evaluation
  const auto raw_candidates = [&](const AcquisitionOptimizerOptions& o) {
    return tr ? trust_region_candidates(space_, regions_[0].center, tr_boxes_[0], n_region, rng_)
              : candidate_set(space_, anchors, o, rng_);
  };
  const auto optimize = [&]() {
    return tr ? optimize_acquisition_in_box(backend, *factor, acq, space_,
                                            raw_candidates(options_.optimizer), tr_boxes_[0],
                                            options_.optimizer)
              : optimize_acquisition(backend, *factor, acq, space_, anchors, options_.optimizer,
                                     rng_);
  };
  switch (last_batch_method_) {
    case BatchMethod::kAuto:  // resolved above
    case BatchMethod::kGreedy:
      for (int i = 0; i < k; ++i) {
        const AcquisitionCandidates cand = optimize();
        Eigen::VectorXd u = first_free(cand.X);
        if (u.size() == 0) u = suggest_initial();  // every candidate taken (throws if none left)
        push_trial(u, "model");
        if (i + 1 < k) {
          Eigen::VectorXd mu;
          factor->predict(u.transpose(), &mu, nullptr);
          try {
            factor->append(u.transpose(), mu);
            acq.best_f = std::max(acq.best_f, mu(0));
          } catch (const NumericalError&) {
            // The point is already (numerically) in the model; the duplicate check still holds.
          }
        }
      }
      return;
    case BatchMethod::kThompson: {
      AcquisitionOptimizerOptions o = options_.optimizer;
      o.raw_samples = std::clamp(4 * k, 2048, 5000);
      const Eigen::MatrixXd C = free_rows(raw_candidates(o));
      const std::vector<Eigen::Index> pick =
          thompson_select(backend, *factor, C, k, std::vector<bool>(C.rows(), false), rng_);
      for (Eigen::Index i : pick) push_trial(C.row(i).transpose(), "model");
      for (int i = static_cast<int>(pick.size()); i < k; ++i)
        push_trial(suggest_initial(), "model");
      return;
    }
    case BatchMethod::kQLogNei: {
      // Baseline: the observed points most likely to hold the incumbent.
      const int b = std::min<int>(kMaxNeiBaseline, static_cast<int>(order.size()));
      Eigen::MatrixXd baseline(b, D);
      for (int a = 0; a < b; ++a) baseline.row(a) = X.row(order[a]);
      // Candidates: LogEI's optimizer output (refined points first) plus the raw candidate set.
      const AcquisitionCandidates refined = optimize();
      const Eigen::MatrixXd raw = raw_candidates(options_.optimizer);
      Eigen::MatrixXd all(refined.X.rows() + raw.rows(), D);
      all << refined.X, raw;
      const Eigen::MatrixXd C = free_rows(all);
      std::vector<bool> taken(static_cast<std::size_t>(C.rows()), false);
      const QLogNei qnei(backend, *factor, baseline, k, rng_());
      Eigen::MatrixXd S(0, D);
      for (int i = 0; i < k; ++i) {
        const Eigen::VectorXd v = qnei.extend_scores(S, C);
        Eigen::Index best = -1;
        for (Eigen::Index r = 0; r < C.rows(); ++r) {
          if (!taken[static_cast<std::size_t>(r)] && (best < 0 || v(r) > v(best))) best = r;
        }
        Eigen::VectorXd u = best < 0 ? suggest_initial() : Eigen::VectorXd(C.row(best).transpose());
        if (best >= 0) taken[static_cast<std::size_t>(best)] = true;
        push_trial(u, "model");
        S.conservativeResize(S.rows() + 1, Eigen::NoChange);
        S.row(S.rows() - 1) = encoded_.back().transpose();
      }
      return;
    }
  }
}

int Study::trust_region_candidate_count(int k) const {
  if (options_.trust_region.n_candidates > 0) return options_.trust_region.n_candidates;
  const int P = static_cast<int>(space_.size());
  return std::max(std::min(5000, std::max(2000, 200 * P)), 2 * k);
}

void Study::suggest_from_trust_regions(int k) {
  // TuRBO-m (Eriksson et al. 2019): every region draws k joint Thompson samples over its own
  // candidates from its own local model; the batch's j-th point is the best j-th draw across
  // all regions. The regions share the complete trials: while there are at most max_points,
  // their models are one and the same fit.
  last_batch_method_ = BatchMethod::kThompson;
  const Backend& backend = gp_->backend();
  const int m = static_cast<int>(regions_.size());
  const int n_each = std::max(trust_region_candidate_count(k) / m, 2 * k);
  tr_boxes_.assign(regions_.size(), Eigen::MatrixXd());
  std::vector<Eigen::MatrixXd> C(regions_.size()), F(regions_.size());
  std::vector<Eigen::Index> last_done;
  std::unique_ptr<PosteriorFactor> factor;
  outliers_.clear();
  double y_mean = 0.0, y_scale = 1.0;
  for (int r = 0; r < m; ++r) {
    TrustRegionState& s = regions_[static_cast<std::size_t>(r)];
    Eigen::MatrixXd X;
    Eigen::VectorXd y;
    const std::vector<Eigen::Index> done = training_data(&X, &y, &s.center);
    if (!factor || done != last_done) {
      std::vector<Eigen::Index> used;
      factor = condition_on_running(fit_model(&s.center, &X, &y, &used), nullptr);
      y_mean = model_y_mean_;
      y_scale = model_y_scale_;
      last_done = done;
    }
    tr_boxes_[r] = trust_region_bounds(
        space_, s.center, last_hyper_->lengthscales.head(space_.encoded_dim()), s.length);
    C[r] = free_rows(trust_region_candidates(space_, s.center, tr_boxes_[r], n_each, rng_));
    if (C[r].rows() == 0) continue;
    // Draws on the common (warped, maximized) scale, so that regions can be compared.
    F[r] =
        (draw_joint_posterior(backend, *factor, C[r], k, rng_).array() * y_scale + y_mean).matrix();
  }
  std::vector<std::vector<bool>> taken(regions_.size());
  for (int r = 0; r < m; ++r) taken[r].assign(static_cast<std::size_t>(C[r].rows()), false);
  for (int j = 0; j < k; ++j) {
    bool pushed = false;
    while (!pushed) {
      int best_r = -1;
      Eigen::Index best_i = -1;
      for (int r = 0; r < m; ++r) {
        for (Eigen::Index i = 0; i < C[r].rows(); ++i) {
          if (!taken[r][static_cast<std::size_t>(i)] &&
              (best_r < 0 || F[r](i, j) > F[best_r](best_i, j))) {
            best_r = r;
            best_i = i;
          }
        }
      }
      if (best_r < 0) {  // every candidate of every region is taken
        push_trial(suggest_initial(), "model");
        break;
      }
      taken[best_r][static_cast<std::size_t>(best_i)] = true;
      const Eigen::VectorXd u = C[best_r].row(best_i).transpose();
      if (is_duplicate(u)) continue;  // another region's pick of this batch (discrete spaces)
      push_trial(u, "model");
      regions_[static_cast<std::size_t>(best_r)].members.push_back(trials_.back().id);
      pushed = true;
    }
  }
}

Eigen::VectorXd Study::first_free(const Eigen::MatrixXd& candidates) const {
  for (Eigen::Index i = 0; i < candidates.rows(); ++i) {
    Eigen::VectorXd u = candidates.row(i).transpose();
    if (!is_duplicate(u)) return u;
  }
  return {};
}

Eigen::MatrixXd Study::free_rows(const Eigen::MatrixXd& C) const {
  // Drop rows equal to a trial or to an earlier row (discrete spaces repeat points): a joint
  // covariance over copies of one point is singular and wastes the candidate budget.
  std::vector<Eigen::Index> keep;
  std::unordered_set<std::string> seen;
  for (Eigen::Index i = 0; i < C.rows(); ++i) {
    const Eigen::VectorXd u = C.row(i).transpose();
    const std::string key(reinterpret_cast<const char*>(u.data()), sizeof(double) * u.size());
    if (seen.insert(key).second && !is_duplicate(u)) keep.push_back(i);
  }
  Eigen::MatrixXd out(static_cast<Eigen::Index>(keep.size()), C.cols());
  for (std::size_t i = 0; i < keep.size(); ++i)
    out.row(static_cast<Eigen::Index>(i)) = C.row(keep[i]);
  return out;
}

bool Study::is_duplicate(const Eigen::VectorXd& u) const {
  // Early exit at the first differing coordinate: candidate sets of thousands of points are
  // checked against thousands of trials in hundreds of dimensions.
  const Eigen::Index D = u.size();
  for (const Eigen::VectorXd& e : encoded_) {
    Eigen::Index j = 0;
    while (j < D && std::abs(e(j) - u(j)) < kDuplicateTol) ++j;
    if (j == D) return true;
  }
  return false;
}

}  // namespace gpbo
