#pragma once
// Host emulation of the cuBLAS calls that cuda/*.cu makes (see cuda_runtime.h here): the same
// signatures and column-major semantics, computed with Eigen on the emulated device memory.
// Scalars (alpha, beta, a dot product's result) are host pointers, as in cuBLAS's default
// pointer mode; only the `uplo` triangle of a triangular or symmetric operand is read.

#include "cuda_runtime.h"

namespace gpbo::cuda {

enum cublasStatus_t {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_ARCH_MISMATCH = 8,
  CUBLAS_STATUS_MAPPING_ERROR = 11,
  CUBLAS_STATUS_EXECUTION_FAILED = 13,
  CUBLAS_STATUS_INTERNAL_ERROR = 14,
  CUBLAS_STATUS_NOT_SUPPORTED = 15,
  CUBLAS_STATUS_LICENSE_ERROR = 16,
};
enum cublasOperation_t { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 };
enum cublasFillMode_t {
  CUBLAS_FILL_MODE_LOWER = 0,
  CUBLAS_FILL_MODE_UPPER = 1,
  CUBLAS_FILL_MODE_FULL = 2
};
enum cublasDiagType_t { CUBLAS_DIAG_NON_UNIT = 0, CUBLAS_DIAG_UNIT = 1 };
enum cublasSideMode_t { CUBLAS_SIDE_LEFT = 0, CUBLAS_SIDE_RIGHT = 1 };

struct EmulatedBlas;
using cublasHandle_t = EmulatedBlas*;

cublasStatus_t cublasCreate(cublasHandle_t* handle);
cublasStatus_t cublasDestroy(cublasHandle_t handle);
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream);

cublasStatus_t cublasDdot(cublasHandle_t h, int n, const double* x, int incx, const double* y,
                          int incy, double* result);
cublasStatus_t cublasDgemv(cublasHandle_t h, cublasOperation_t trans, int m, int n,
                           const double* alpha, const double* A, int lda, const double* x, int incx,
                           const double* beta, double* y, int incy);
cublasStatus_t cublasSgemv(cublasHandle_t h, cublasOperation_t trans, int m, int n,
                           const float* alpha, const float* A, int lda, const float* x, int incx,
                           const float* beta, float* y, int incy);
cublasStatus_t cublasDsymv(cublasHandle_t h, cublasFillMode_t uplo, int n, const double* alpha,
                           const double* A, int lda, const double* x, int incx, const double* beta,
                           double* y, int incy);
cublasStatus_t cublasDtrsv(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans,
                           cublasDiagType_t diag, int n, const double* A, int lda, double* x,
                           int incx);
cublasStatus_t cublasDgemm(cublasHandle_t h, cublasOperation_t transa, cublasOperation_t transb,
                           int m, int n, int k, const double* alpha, const double* A, int lda,
                           const double* B, int ldb, const double* beta, double* C, int ldc);
cublasStatus_t cublasDsymm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, int m,
                           int n, const double* alpha, const double* A, int lda, const double* B,
                           int ldb, const double* beta, double* C, int ldc);
cublasStatus_t cublasDsyrk(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans, int n,
                           int k, const double* alpha, const double* A, int lda, const double* beta,
                           double* C, int ldc);
cublasStatus_t cublasDgeam(cublasHandle_t h, cublasOperation_t transa, cublasOperation_t transb,
                           int m, int n, const double* alpha, const double* A, int lda,
                           const double* beta, const double* B, int ldb, double* C, int ldc);
cublasStatus_t cublasDtrsm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo,
                           cublasOperation_t trans, cublasDiagType_t diag, int m, int n,
                           const double* alpha, const double* A, int lda, double* B, int ldb);
cublasStatus_t cublasStrsm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo,
                           cublasOperation_t trans, cublasDiagType_t diag, int m, int n,
                           const float* alpha, const float* A, int lda, float* B, int ldb);

}  // namespace gpbo::cuda
