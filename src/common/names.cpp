// The names of every enum of the vocabulary (include/gpbo): what the JSON forms, the stores, the
// CLI and the HTTP API read and write. Names are lower case; parsing is case-insensitive.
#include <string>

#include "common/enum_names.hpp"
#include "gpbo/acquisition.hpp"
#include "gpbo/device.hpp"
#include "gpbo/kernel.hpp"
#include "gpbo/metrics.hpp"
#include "gpbo/options.hpp"
#include "gpbo/trial.hpp"

namespace gpbo {
namespace {

constexpr EnumName<Direction> kDirections[] = {{Direction::kMinimize, "minimize"},
                                               {Direction::kMaximize, "maximize"},
                                               {Direction::kMinimize, "min"},
                                               {Direction::kMaximize, "max"}};

constexpr EnumName<Bound> kBounds[] = {{Bound::kAtMost, "<="}, {Bound::kAtLeast, ">="}};

constexpr EnumName<TrialState> kTrialStates[] = {{TrialState::kRunning, "running"},
                                                 {TrialState::kComplete, "complete"},
                                                 {TrialState::kFailed, "failed"},
                                                 {TrialState::kPruned, "pruned"},
                                                 {TrialState::kFailed, "fail"}};

constexpr EnumName<NoiseModel> kNoiseModels[] = {{NoiseModel::kAuto, "auto"},
                                                 {NoiseModel::kDeterministic, "deterministic"},
                                                 {NoiseModel::kNoisy, "noisy"}};

constexpr EnumName<RobustMode> kRobustModes[] = {
    {RobustMode::kAuto, "auto"}, {RobustMode::kOn, "on"}, {RobustMode::kOff, "off"}};
constexpr EnumName<PrunerRule> kPrunerRules[] = {
    {PrunerRule::kNone, "none"}, {PrunerRule::kMedian, "median"}, {PrunerRule::kAsha, "asha"}};
constexpr EnumName<DriftMode> kDriftModes[] = {{DriftMode::kOff, "off"},
                                               {DriftMode::kAuto, "auto"}};
constexpr EnumName<OutputWarping> kOutputWarpings[] = {{OutputWarping::kNone, "none"},
                                                       {OutputWarping::kHalfRank, "halfrank"},
                                                       {OutputWarping::kLog, "log"},
                                                       {OutputWarping::kHalfRank, "half-rank"}};

constexpr EnumName<BatchMethod> kBatchMethods[] = {{BatchMethod::kAuto, "auto"},
                                                   {BatchMethod::kGreedy, "greedy"},
                                                   {BatchMethod::kQLogNei, "qlognei"},
                                                   {BatchMethod::kThompson, "thompson"},
                                                   {BatchMethod::kThompson, "ts"}};

constexpr EnumName<Strategy> kStrategies[] = {{Strategy::kAuto, "auto"},
                                              {Strategy::kGlobal, "global"},
                                              {Strategy::kTrustRegion, "trust-region"},
                                              {Strategy::kTrustRegion, "trust_region"},
                                              {Strategy::kTrustRegion, "turbo"}};

constexpr EnumName<KernelType> kKernels[] = {{KernelType::kMatern52, "matern52"},
                                             {KernelType::kRbf, "rbf"},
                                             {KernelType::kMatern52, "matern"}};

constexpr EnumName<AcquisitionType> kAcquisitions[] = {
    {AcquisitionType::kLogEI, "logei"},  {AcquisitionType::kEI, "ei"},
    {AcquisitionType::kUCB, "ucb"},      {AcquisitionType::kPI, "pi"},
    {AcquisitionType::kLogEI, "log_ei"}, {AcquisitionType::kLogEI, "log-ei"},
    {AcquisitionType::kPI, "logpi"}};

constexpr EnumName<ScorePrecision> kScorePrecisions[] = {
    {ScorePrecision::kDouble, "double"}, {ScorePrecision::kFloat, "float"},
    {ScorePrecision::kDouble, "fp64"},   {ScorePrecision::kDouble, "float64"},
    {ScorePrecision::kFloat, "fp32"},    {ScorePrecision::kFloat, "float32"}};

constexpr EnumName<ErrorKind> kErrorKinds[] = {
    {ErrorKind::kInvalidArgument, "invalid_argument"},
    {ErrorKind::kNotFound, "not_found"},
    {ErrorKind::kConflict, "conflict"},
    {ErrorKind::kNumerical, "numerical_error"},
    {ErrorKind::kBackendUnavailable, "backend_unavailable"},
    {ErrorKind::kStorage, "storage_error"},
    {ErrorKind::kInternal, "internal"}};

}  // namespace

Direction parse_direction(const std::string& t) {
  return enum_from_string(kDirections, t, "direction");
}
std::string to_string(Direction v) { return enum_to_string(kDirections, v); }

Bound parse_bound(const std::string& t) { return enum_from_string(kBounds, t, "constraint side"); }
std::string to_string(Bound v) { return enum_to_string(kBounds, v); }

TrialState parse_trial_state(const std::string& t) {
  return enum_from_string(kTrialStates, t, "trial state");
}
std::string to_string(TrialState v) { return enum_to_string(kTrialStates, v); }

NoiseModel parse_noise_model(const std::string& t) {
  return enum_from_string(kNoiseModels, t, "noise model");
}
std::string to_string(NoiseModel v) { return enum_to_string(kNoiseModels, v); }

RobustMode parse_robust_mode(const std::string& t) {
  return enum_from_string(kRobustModes, t, "robust mode");
}
std::string to_string(RobustMode v) { return enum_to_string(kRobustModes, v); }
PrunerRule parse_pruner_rule(const std::string& t) {
  return enum_from_string(kPrunerRules, t, "pruner");
}
std::string to_string(PrunerRule v) { return enum_to_string(kPrunerRules, v); }
DriftMode parse_drift_mode(const std::string& t) {
  return enum_from_string(kDriftModes, t, "drift");
}
std::string to_string(DriftMode v) { return enum_to_string(kDriftModes, v); }
OutputWarping parse_output_warping(const std::string& t) {
  return enum_from_string(kOutputWarpings, t, "output warping");
}
std::string to_string(OutputWarping v) { return enum_to_string(kOutputWarpings, v); }

BatchMethod parse_batch_method(const std::string& t) {
  return enum_from_string(kBatchMethods, t, "batch method");
}
std::string to_string(BatchMethod v) { return enum_to_string(kBatchMethods, v); }

Strategy parse_strategy(const std::string& t) {
  return enum_from_string(kStrategies, t, "strategy");
}
std::string to_string(Strategy v) { return enum_to_string(kStrategies, v); }

KernelType parse_kernel(const std::string& t) { return enum_from_string(kKernels, t, "kernel"); }
std::string to_string(KernelType v) { return enum_to_string(kKernels, v); }

AcquisitionType parse_acquisition(const std::string& t) {
  return enum_from_string(kAcquisitions, t, "acquisition");
}
std::string to_string(AcquisitionType v) { return enum_to_string(kAcquisitions, v); }

ScorePrecision parse_score_precision(const std::string& t) {
  return enum_from_string(kScorePrecisions, t, "score precision");
}
std::string to_string(ScorePrecision v) { return enum_to_string(kScorePrecisions, v); }

ErrorKind parse_error_kind(const std::string& t) {
  return enum_from_string(kErrorKinds, t, "error code");
}
std::string to_string(ErrorKind v) { return enum_to_string(kErrorKinds, v); }

}  // namespace gpbo
