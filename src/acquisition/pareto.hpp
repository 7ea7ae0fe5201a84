#pragma once
// Pareto dominance, the hypervolume indicator and the box decomposition of the non-dominated
// region, for multi-objective acquisition. Every objective is MAXIMIZED here (callers orient
// their metrics first); outcomes are the rows of an n x m matrix.

#include <Eigen/Core>
#include <vector>

namespace gpbo {

/// a >= b in every coordinate and a > b in at least one (false where a NaN is involved). Throws
/// InvalidArgument on a size mismatch.
bool dominates(const Eigen::VectorXd& a, const Eigen::VectorXd& b);

/// Indices of the rows of Y (n x m, m >= 1) that no other row dominates, ascending. Identical
/// rows do not dominate each other, so all copies of a Pareto-optimal row are kept. O(n log n + n
/// p m) for p Pareto rows. Throws InvalidArgument on a NaN entry.
std::vector<Eigen::Index> pareto_indices(const Eigen::MatrixXd& Y);

/// Lebesgue measure of the union of the boxes [ref, y_i] over the rows y_i of Y (n x m) with
/// y_i > ref in every coordinate; other rows contribute nothing. Exact for any m >= 1, by
/// slicing on the last coordinate (HSO, While et al. 2006): O(n log n) for m = 2,
/// O(n^2 log n) for m = 3, O(n^(m-1) log n) in general. Throws InvalidArgument when ref.size()
/// != Y.cols(), m = 0, or an entry is not finite.
double hypervolume(const Eigen::MatrixXd& Y, const Eigen::VectorXd& ref);

/// Axis-aligned boxes [lower(k, :), upper(k, :)], one per row (k x m); upper entries may be
/// +infinity, lower entries are finite.
struct BoxDecomposition {
  Eigen::MatrixXd lower;
  Eigen::MatrixXd upper;
};

/// Boxes with disjoint interiors whose union is {z >= ref} minus the region the front dominates
/// ({z : some row p of `front` has p >= z}). Rows that are dominated, repeated, or not strictly
/// above ref are filtered out first; with none left the result is the single box [ref, +inf).
/// For m = 2 the boxes are the n + 1 steps of the sorted front. For m >= 3, slices between
/// consecutive distinct values of the last coordinate, each the (m-1)-dim decomposition of the
/// rows that reach the slice's top, merged across slices where a box repeats: exact, at most
/// O(n^(m-1)) boxes (2n + 1 on random 3-objective fronts of 30 and 60 points). Throws as
/// hypervolume().
BoxDecomposition non_dominated_boxes(const Eigen::MatrixXd& front, const Eigen::VectorXd& ref);

/// sum_k prod_j max(0, min(upper_kj, y_j) - lower_kj): for the boxes of non_dominated_boxes,
/// hypervolume(front + row y, ref) - hypervolume(front, ref). Throws InvalidArgument when y.size()
/// != boxes.lower.cols().
double hypervolume_improvement(const BoxDecomposition& boxes, const Eigen::VectorXd& y);

/// BoTorch's reference point (infer_reference_point, scale 0.1, maximization): with nadir and
/// ideal the column-wise min and max of the Pareto rows of `front`, ref = nadir - 0.1 * range,
/// range_j = ideal_j - nadir_j, or |nadir_j| where the two are equal (one distinct Pareto row, or
/// a flat coordinate), clamped below at 1e-7 so ref stays strictly below the front. BoTorch uses
/// range 1e-7 for a flat coordinate of several points; we use |nadir_j| there as for one point.
/// Throws InvalidArgument for an empty front (no rows or no columns) or a non-finite entry.
Eigen::VectorXd infer_reference_point(const Eigen::MatrixXd& front);

/// gpbo's reference point when none is given: the nadir of the Pareto rows of Y (maximized),
/// 10% of the range of *every* row of Y beyond it (|nadir_j| where that range is 0). Like
/// BoTorch's it sits just past the front found so far; its margin scales with how far the
/// metric varies rather than with the front's own extent, so a front that is still short
/// (early on, a few clustered points) is rewarded for growing its ends by a useful step
/// instead of 10% of its own small span. Throws InvalidArgument for no rows or a non-finite
/// entry.
Eigen::VectorXd front_reference_point(const Eigen::MatrixXd& Y);

}  // namespace gpbo
