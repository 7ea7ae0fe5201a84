// Device parsing and resolution, and the backend factory.
#include "gpbo/device.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "gpbo/error.hpp"

namespace {

using gpbo::Device;

TEST(DeviceParse, AcceptsEveryDocumentedSpelling) {
  EXPECT_EQ(Device::parse("auto"), Device::automatic());
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("CPU"), Device::cpu());
  EXPECT_EQ(Device::parse("cuda"), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:0"), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:3"), Device::cuda(3));

  const Device c3 = Device::parse("cuda:3");
  EXPECT_EQ(c3.kind(), Device::Kind::kCuda);
  EXPECT_EQ(c3.ordinal(), 3);
  EXPECT_EQ(Device::parse("auto").kind(), Device::Kind::kAuto);
  EXPECT_EQ(Device::parse("CPU").kind(), Device::Kind::kCpu);
}

TEST(DeviceParse, RejectsMalformedText) {
  for (const std::string text : {"", "cuda:", "cuda:-1", "tpu", "cuda:x"}) {
    EXPECT_THROW(Device::parse(text), gpbo::InvalidArgument) << "text: '" << text << "'";
  }
}

TEST(DeviceParse, InvalidArgumentIsAGpboError) { EXPECT_THROW(Device::parse("tpu"), gpbo::Error); }

TEST(DeviceToString, RoundTripsThroughParse) {
  const std::vector<Device> devices = {Device::automatic(), Device::cpu(), Device::cuda(0),
                                       Device::cuda(3)};
  for (const Device& d : devices) {
    EXPECT_EQ(Device::parse(d.to_string()), d) << d.to_string();
  }
  EXPECT_EQ(Device::automatic().to_string(), "auto");
  EXPECT_EQ(Device::cpu().to_string(), "cpu");
  EXPECT_EQ(Device::cuda(3).to_string(), "cuda:3");
}

TEST(ScorePrecision, ParsesEverySpellingAndRoundTrips) {
  using gpbo::ScorePrecision;
  for (const char* t : {"double", "DOUBLE", "fp64", "float64"})
    EXPECT_EQ(gpbo::parse_score_precision(t), ScorePrecision::kDouble) << t;
  for (const char* t : {"float", "Float", "fp32", "float32"})
    EXPECT_EQ(gpbo::parse_score_precision(t), ScorePrecision::kFloat) << t;
  for (ScorePrecision p : {ScorePrecision::kDouble, ScorePrecision::kFloat})
    EXPECT_EQ(gpbo::parse_score_precision(gpbo::to_string(p)), p);
  for (const char* t : {"", "half", "fp16", "double "})
    EXPECT_THROW(gpbo::parse_score_precision(t), gpbo::InvalidArgument) << t;
}

TEST(ScorePrecision, TheCpuBackendAcceptsFloatAndScoresInDouble) {
  // float32 scoring is a GPU option: on the CPU it is accepted (a study with device auto may
  // land there) and changes nothing.
  const auto backend = gpbo::make_backend(Device::cpu(), gpbo::ScorePrecision::kFloat);
  EXPECT_EQ(backend->device(), Device::cpu());
}

TEST(DeviceResolve, CpuStaysCpu) { EXPECT_EQ(gpbo::resolve_device(Device::cpu()), Device::cpu()); }

// The two below need no device: each checks what resolution does with one and without one, so
// it runs on every machine and never skips. Their names stay out of the GPU run's filter
// (bench/device_check.sh: suites starting with Cuda, tests ending in Cuda).
TEST(DeviceResolve, AutoIsCudaWithADeviceElseCpu) {
  const Device expected = gpbo::cuda_device_count() > 0 ? Device::cuda(0) : Device::cpu();
  EXPECT_EQ(gpbo::resolve_device(Device::automatic()), expected);
}

TEST(DeviceResolve, ExplicitCudaResolvesOnlyWithADevice) {
  if (gpbo::cuda_device_count() > 0) {
    EXPECT_EQ(gpbo::resolve_device(Device::cuda(0)), Device::cuda(0));
    EXPECT_EQ(gpbo::make_backend(Device::cuda(0))->device(), Device::cuda(0));
    return;
  }
  EXPECT_THROW(gpbo::resolve_device(Device::cuda(0)), gpbo::BackendUnavailable);
  EXPECT_THROW(gpbo::make_backend(Device::cuda(0)), gpbo::BackendUnavailable);
}

TEST(DeviceResolve, OrdinalBeyondVisibleDevicesThrows) {
  const int count = gpbo::cuda_device_count();
  EXPECT_GE(count, 0);
  EXPECT_THROW(gpbo::resolve_device(Device::cuda(count)), gpbo::BackendUnavailable);
}

// ------------------------------------------------------------------ backend factory, per device

/// make_backend(device) builds a backend on the device that resolve_device names.
void run_backend_reports_device(const Device& device) {
  const std::unique_ptr<gpbo::Backend> backend = gpbo::make_backend(device);
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->device(), gpbo::resolve_device(device));
  EXPECT_NE(backend->device().kind(), Device::Kind::kAuto);
}

TEST(BackendFactory, ReportsDeviceCpu) {
  run_backend_reports_device(Device::cpu());
  EXPECT_EQ(gpbo::make_backend(Device::cpu())->device(), Device::cpu());
  EXPECT_EQ(gpbo::make_cpu_backend()->device(), Device::cpu());
}

TEST(BackendFactory, ReportsDeviceCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_backend_reports_device(Device::cuda(0));
  EXPECT_EQ(gpbo::make_backend(Device::cuda(0))->device(), Device::cuda(0));
}

TEST(BackendFactory, AutoResolvesToAConcreteDevice) {
  run_backend_reports_device(Device::automatic());
  if (gpbo::cuda_device_count() == 0) {
    EXPECT_EQ(gpbo::make_backend(Device::automatic())->device(), Device::cpu());
  }
}

}  // namespace
