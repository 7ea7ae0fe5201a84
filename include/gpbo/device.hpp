#pragma once
/// Where dense math runs: a small value type parsed from "auto", "cpu", "cuda" or "cuda:N".

#include <string>

namespace gpbo {

class Device {
 public:
  enum class Kind { kAuto, kCpu, kCuda };

  /// `auto`: a visible CUDA device if the CUDA backend is built, else the CPU.
  static Device automatic() { return Device(Kind::kAuto, 0); }
  static Device cpu() { return Device(Kind::kCpu, 0); }
  static Device cuda(int ordinal = 0) { return Device(Kind::kCuda, ordinal); }
  /// Parses "auto", "cpu", "cuda" or "cuda:N" (N >= 0). Throws InvalidArgument otherwise.
  static Device parse(const std::string& text);

  Kind kind() const { return kind_; }
  int ordinal() const { return ordinal_; }
  /// The text form accepted by parse().
  std::string to_string() const;
  bool operator==(const Device& o) const { return kind_ == o.kind_ && ordinal_ == o.ordinal_; }

 private:
  Device(Kind kind, int ordinal) : kind_(kind), ordinal_(ordinal) {}
  Kind kind_;
  int ordinal_;
};

/// Precision of batched candidate scoring on a GPU: acquisition values without gradients, and
/// the top-k selection of the optimizer's raw candidates. kFloat computes the candidates'
/// cross-covariance, triangular solve and mean in float32 (half the memory traffic, and the
/// card's FP32 rate); the fit, the factor, gradients and predict() always stay in double. The
/// CPU backend always scores in double.
enum class ScorePrecision { kDouble, kFloat };
/// "double" (or "fp64", "float64"), "float" (or "fp32", "float32"). Throws InvalidArgument.
ScorePrecision parse_score_precision(const std::string& text);
std::string to_string(ScorePrecision p);

/// Number of CUDA devices visible to this process; 0 when the CUDA backend is not built or no
/// driver is present. Never throws.
int cuda_device_count() noexcept;

/// Resolves `auto` to `cpu` or `cuda:0`; checks that an explicit `cuda:N` exists and that the
/// CUDA backend is built (throws BackendUnavailable otherwise). Logs one line for `auto`.
Device resolve_device(const Device& requested);

}  // namespace gpbo
