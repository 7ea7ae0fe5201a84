#pragma once
/// The vocabulary of the trust-region strategy (TuRBO, Eriksson et al. 2019): its options, and
/// the state of one region that a Study keeps and a stored study carries between asks.

#include <Eigen/Core>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gpbo {

/// Most trust regions a study keeps at once (TrustRegionOptions::n_regions).
inline constexpr int kMaxTrustRegions = 64;

/// Settings of the trust-region strategy (defaults from TuRBO-1, Eriksson et al. 2019).
struct TrustRegionOptions {
  /// Region side length L relative to the unit cube: initial, minimum (a smaller region
  /// restarts), maximum.
  double length_init = 0.8;
  double length_min = 0.0078125;  // 0.5^7
  double length_max = 1.6;
  /// Consecutive successful batches before L doubles.
  int success_tolerance = 3;
  /// Consecutive failed batches before L halves; 0 picks ceil(max(4/q, d/q)).
  int failure_tolerance = 0;
  /// A batch succeeds when it beats the region's best by this share of |best| (TuRBO: 1e-3).
  double success_margin = 1e-3;
  /// Candidates drawn in the region per ask; 0 picks min(5000, max(2000, 200 d)).
  int n_candidates = 0;
  /// The GP is fitted on at most this many complete trials, those nearest the region's centre
  /// (0: all). Bounds the O(n^3) fit when the history is long.
  int max_points = 1000;
  /// Strategy kAuto uses the trust region when the space has at least this many parameters.
  int auto_min_dim = 40;
  /// Regions kept at once (TuRBO-m). Each has its own centre, length and counts (its failure
  /// tolerance sized for q / n_regions points per batch) and its own local GP once the history
  /// exceeds max_points; a batch is split among them by Thompson sampling across the regions'
  /// candidates (n_candidates shared out), so the most promising regions get most points.
  /// More than one region needs Thompson sampling (batch_method auto or thompson).
  int n_regions = 1;
};

/// Throws InvalidArgument unless 0 < length_min <= length_init <= length_max < inf,
/// success_tolerance >= 1, failure_tolerance, n_candidates, max_points, success_margin and
/// auto_min_dim are >= 0, and 1 <= n_regions <= kMaxTrustRegions.
void check_trust_region_options(const TrustRegionOptions& options);

/// The state of a trust region, kept by a Study and carried by a stored study between asks.
struct TrustRegionState {
  /// Side length L of the region (before lengthscale weighting).
  double length = 0.8;
  int success_count = 0;
  int failure_count = 0;
  /// How many times the region collapsed and restarted.
  int restarts = 0;
  /// The encoded centre (unit cube, length Space::encoded_dim()).
  Eigen::VectorXd center;
  /// The best objective value seen in this region (in the study's own direction); empty right
  /// after a restart, until the first batch of the new region is complete.
  std::optional<double> best_value;
  /// With outcome constraints (SCBO's rule): while none of the region's trials is feasible, the
  /// smallest total violation among them (`violation` of gpbo/metrics.hpp); empty otherwise. A
  /// feasible trial beats every infeasible one.
  std::optional<double> best_violation;
  /// Trials with an id at or above this one belong to the current region.
  std::int64_t region_start = 0;
  /// Complete trials already counted by the last update (with several regions: of the
  /// region's own trials).
  std::int64_t n_seen = 0;
  /// With several regions: the trials this region suggested since it (re)started. With one
  /// region every trial from region_start on is the region's, and this stays empty.
  std::vector<std::int64_t> members;
};

/// JSON object text of a state, and back (InvalidArgument on malformed text or a centre of the
/// wrong length `dim`; dim < 0 skips that check).
std::string trust_region_state_to_json(const TrustRegionState& s);
TrustRegionState trust_region_state_from_json(const std::string& text, int dim = -1);

}  // namespace gpbo
