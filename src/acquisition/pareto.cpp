#include "acquisition/pareto.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <utility>

#include "gpbo/error.hpp"

namespace gpbo {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
/// Smallest range infer_reference_point() scales (BoTorch's MIN_Y_RANGE).
constexpr double kMinRange = 1e-7;
/// infer_reference_point()'s margin as a fraction of the range (Ishibuchi et al. 2011).
constexpr double kReferenceScale = 0.1;

/// A point is a pointer to m contiguous doubles (a row of a row-major copy).
using Point = const double*;

/// True when p >= q in the first m coordinates and p > q in one (dominance).
bool dominates_raw(Point p, Point q, int m) {
  bool strict = false;
  for (int j = 0; j < m; ++j) {
    if (!(p[j] >= q[j])) return false;  // NaN compares false: no dominance
    if (p[j] > q[j]) strict = true;
  }
  return strict;
}

/// Lexicographically descending order of points; dominance implies "comes first".
bool lex_greater(Point p, Point q, int m) {
  for (int j = 0; j < m; ++j) {
    if (p[j] != q[j]) return p[j] > q[j];
  }
  return false;
}

bool equal_raw(Point p, Point q, int m) { return std::equal(p, p + m, q); }

/// Row-major copy of Y, so that a row is contiguous.
std::vector<double> row_major(const Eigen::MatrixXd& Y) {
  std::vector<double> data(static_cast<std::size_t>(Y.size()));
  for (Eigen::Index i = 0; i < Y.rows(); ++i) {
    for (Eigen::Index j = 0; j < Y.cols(); ++j) {
      data[static_cast<std::size_t>(i * Y.cols() + j)] = Y(i, j);
    }
  }
  return data;
}

/// Indices of the Pareto-optimal points (every copy of a repeated one), in lexicographically
/// descending order. A dominated point is dominated by some Pareto point, which sorts before it,
/// so comparing each point with the Pareto points kept so far suffices.
std::vector<std::size_t> pareto_order(const std::vector<Point>& pts, int m, bool keep_copies) {
  std::vector<std::size_t> order(pts.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return lex_greater(pts[a], pts[b], m); });
  std::vector<std::size_t> kept;
  std::vector<Point> distinct;
  for (std::size_t i : order) {
    if (!distinct.empty() && equal_raw(distinct.back(), pts[i], m)) {
      // Copies sort next to each other, so this is a copy of a kept point.
      if (keep_copies) kept.push_back(i);
      continue;
    }
    bool dominated = false;
    for (Point p : distinct) {
      if (dominates_raw(p, pts[i], m)) {
        dominated = true;
        break;
      }
    }
    if (dominated) continue;
    distinct.push_back(pts[i]);
    kept.push_back(i);
  }
  return kept;
}

void check_front(const Eigen::MatrixXd& Y, const Eigen::VectorXd& ref, const char* who) {
  if (ref.size() == 0) throw InvalidArgument(std::string(who) + ": no objectives");
  if (ref.size() != Y.cols()) {
    throw InvalidArgument(std::string(who) + ": reference point has " + std::to_string(ref.size()) +
                          " entries, outcomes have " + std::to_string(Y.cols()));
  }
  if (!Y.allFinite() || !ref.allFinite()) {
    throw InvalidArgument(std::string(who) + ": outcomes and reference point must be finite");
  }
}

/// The distinct Pareto-optimal rows of Y strictly above ref in every coordinate, row-major in
/// `storage`, as pointers into it.
std::vector<Point> useful_points(const Eigen::MatrixXd& Y, const Eigen::VectorXd& ref,
                                 std::vector<double>* storage) {
  const int m = static_cast<int>(Y.cols());
  *storage = row_major(Y);
  std::vector<Point> above;
  for (Eigen::Index i = 0; i < Y.rows(); ++i) {
    Point p = storage->data() + i * m;
    bool ok = true;
    for (int j = 0; j < m && ok; ++j) ok = p[j] > ref(j);
    if (ok) above.push_back(p);
  }
  std::vector<Point> front;
  for (std::size_t i : pareto_order(above, m, /*keep_copies=*/false)) front.push_back(above[i]);
  return front;
}

/// Hypervolume of the points in their first k coordinates above ref (every point is strictly
/// above ref). Slices on coordinate k-1: between consecutive values, the dominated (k-1)-dim
/// cross-section is that of the points reaching the slice's top.
double hv_recursive(std::vector<Point> pts, int k, const double* ref) {
  if (pts.empty()) return 0.0;
  const int c = k - 1;
  std::sort(pts.begin(), pts.end(), [c](Point a, Point b) { return a[c] > b[c]; });
  if (k == 1) return pts.front()[0] - ref[0];
  double volume = 0.0;
  if (k == 2) {
    // Descending in y: the x-extent of the staircase grows as y falls.
    double x = ref[0];
    for (std::size_t i = 0; i < pts.size(); ++i) {
      x = std::max(x, pts[i][0]);
      const double below = i + 1 < pts.size() ? pts[i + 1][1] : ref[1];
      volume += (x - ref[0]) * (pts[i][1] - below);
    }
    return volume;
  }
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const double below = i + 1 < pts.size() ? pts[i + 1][c] : ref[c];
    const double height = pts[i][c] - below;
    if (height > 0.0) {
      volume += height * hv_recursive(std::vector<Point>(pts.begin(), pts.begin() + i + 1), c, ref);
    }
  }
  return volume;
}

/// Boxes in the first k coordinates, row-major (k entries per box).
struct BoxList {
  std::vector<double> lower, upper;
};

/// The non-dominated region {z >= ref} minus the points' dominated region, in the first k
/// coordinates, as boxes (see non_dominated_boxes()). A box that repeats in consecutive slices is
/// one box spanning both.
BoxList decompose(std::vector<Point> pts, int k, const double* ref) {
  BoxList out;
  if (k == 1) {
    double lo = ref[0];
    for (Point p : pts) lo = std::max(lo, p[0]);
    out.lower.push_back(lo);
    out.upper.push_back(kInf);
    return out;
  }
  const int c = k - 1;
  std::sort(pts.begin(), pts.end(), [c](Point a, Point b) { return a[c] > b[c]; });
  // (k-1)-dim box of the previous slice (lower then upper) -> its index in `out`.
  std::map<std::vector<double>, std::size_t> open, next_open;
  std::size_t reached = 0;  // pts[0, reached) reach the current slice's top
  double top = kInf;
  while (true) {
    const double bottom = reached < pts.size() ? pts[reached][c] : ref[c];
    const BoxList sub = decompose(std::vector<Point>(pts.begin(), pts.begin() + reached), c, ref);
    next_open.clear();
    const std::size_t n_sub = sub.lower.size() / static_cast<std::size_t>(c);
    for (std::size_t b = 0; b < n_sub; ++b) {
      std::vector<double> key(sub.lower.begin() + b * c, sub.lower.begin() + (b + 1) * c);
      key.insert(key.end(), sub.upper.begin() + b * c, sub.upper.begin() + (b + 1) * c);
      const auto it = open.find(key);
      if (it != open.end()) {
        out.lower[it->second * k + c] = bottom;  // extend the box down through this slice
        next_open.emplace(std::move(key), it->second);
        continue;
      }
      const std::size_t index = out.lower.size() / static_cast<std::size_t>(k);
      out.lower.insert(out.lower.end(), key.begin(), key.begin() + c);
      out.lower.push_back(bottom);
      out.upper.insert(out.upper.end(), key.begin() + c, key.end());
      out.upper.push_back(top);
      next_open.emplace(std::move(key), index);
    }
    std::swap(open, next_open);
    if (reached == pts.size()) break;
    top = pts[reached][c];
    while (reached < pts.size() && pts[reached][c] == top) ++reached;
  }
  return out;
}

}  // namespace

bool dominates(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  if (a.size() != b.size()) {
    throw InvalidArgument("dominates: vectors of sizes " + std::to_string(a.size()) + " and " +
                          std::to_string(b.size()));
  }
  return dominates_raw(a.data(), b.data(), static_cast<int>(a.size()));
}

std::vector<Eigen::Index> pareto_indices(const Eigen::MatrixXd& Y) {
  if (Y.hasNaN()) throw InvalidArgument("pareto_indices: NaN outcome");
  const int m = static_cast<int>(Y.cols());
  const std::vector<double> storage = row_major(Y);
  std::vector<Point> pts;
  for (Eigen::Index i = 0; i < Y.rows(); ++i) pts.push_back(storage.data() + i * m);
  std::vector<Eigen::Index> result;
  for (std::size_t i : pareto_order(pts, m, /*keep_copies=*/true)) {
    result.push_back(static_cast<Eigen::Index>(i));
  }
  std::sort(result.begin(), result.end());
  return result;
}

double hypervolume(const Eigen::MatrixXd& Y, const Eigen::VectorXd& ref) {
  check_front(Y, ref, "hypervolume");
  std::vector<double> storage;
  std::vector<Point> pts = useful_points(Y, ref, &storage);
  return hv_recursive(std::move(pts), static_cast<int>(Y.cols()), ref.data());
}

BoxDecomposition non_dominated_boxes(const Eigen::MatrixXd& front, const Eigen::VectorXd& ref) {
  check_front(front, ref, "non_dominated_boxes");
  const int m = static_cast<int>(front.cols());
  std::vector<double> storage;
  const BoxList list = decompose(useful_points(front, ref, &storage), m, ref.data());
  const Eigen::Index k = static_cast<Eigen::Index>(list.lower.size()) / m;
  BoxDecomposition boxes;
  boxes.lower.resize(k, m);
  boxes.upper.resize(k, m);
  for (Eigen::Index b = 0; b < k; ++b) {
    for (int j = 0; j < m; ++j) {
      boxes.lower(b, j) = list.lower[static_cast<std::size_t>(b * m + j)];
      boxes.upper(b, j) = list.upper[static_cast<std::size_t>(b * m + j)];
    }
  }
  return boxes;
}

double hypervolume_improvement(const BoxDecomposition& boxes, const Eigen::VectorXd& y) {
  if (y.size() != boxes.lower.cols() || boxes.upper.rows() != boxes.lower.rows() ||
      boxes.upper.cols() != boxes.lower.cols()) {
    throw InvalidArgument("hypervolume_improvement: outcome of size " + std::to_string(y.size()) +
                          " for boxes with " + std::to_string(boxes.lower.cols()) + " objectives");
  }
  double total = 0.0;
  for (Eigen::Index b = 0; b < boxes.lower.rows(); ++b) {
    double volume = 1.0;
    for (Eigen::Index j = 0; j < y.size() && volume > 0.0; ++j) {
      volume *= std::max(0.0, std::min(boxes.upper(b, j), y(j)) - boxes.lower(b, j));
    }
    total += volume;
  }
  return total;
}

Eigen::VectorXd infer_reference_point(const Eigen::MatrixXd& front) {
  if (front.rows() == 0 || front.cols() == 0) {
    throw InvalidArgument("infer_reference_point: empty front");
  }
  if (!front.allFinite()) throw InvalidArgument("infer_reference_point: non-finite outcome");
  const std::vector<Eigen::Index> pareto = pareto_indices(front);
  Eigen::VectorXd nadir = front.row(pareto.front()).transpose();
  Eigen::VectorXd ideal = nadir;
  for (Eigen::Index i : pareto) {
    nadir = nadir.cwiseMin(front.row(i).transpose());
    ideal = ideal.cwiseMax(front.row(i).transpose());
  }
  Eigen::VectorXd ref(front.cols());
  for (Eigen::Index j = 0; j < ref.size(); ++j) {
    const double range = ideal(j) > nadir(j) ? ideal(j) - nadir(j) : std::abs(nadir(j));
    ref(j) = nadir(j) - kReferenceScale * std::max(range, kMinRange);
  }
  return ref;
}

Eigen::VectorXd front_reference_point(const Eigen::MatrixXd& Y) {
  if (Y.rows() == 0 || Y.cols() == 0) throw InvalidArgument("front_reference_point: no outcome");
  if (!Y.allFinite()) throw InvalidArgument("front_reference_point: non-finite outcome");
  const std::vector<Eigen::Index> pareto = pareto_indices(Y);
  Eigen::VectorXd nadir = Y.row(pareto.front()).transpose();
  for (Eigen::Index i : pareto) nadir = nadir.cwiseMin(Y.row(i).transpose());
  const Eigen::VectorXd lo = Y.colwise().minCoeff().transpose();
  const Eigen::VectorXd hi = Y.colwise().maxCoeff().transpose();
  Eigen::VectorXd ref(Y.cols());
  for (Eigen::Index j = 0; j < ref.size(); ++j) {
    const double range = hi(j) > lo(j) ? hi(j) - lo(j) : std::abs(nadir(j));
    ref(j) = nadir(j) - kReferenceScale * std::max(range, kMinRange);
  }
  return ref;
}

}  // namespace gpbo
