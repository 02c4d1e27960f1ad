/* The part of ONNX Runtime's C API this room uses, declared here because no
 * ORT header is packaged for the machines onnxtd builds on.
 *
 * ORT's OrtApi is a table of function pointers that only ever grows at the
 * end: an entry keeps its index in every later release, and ORT asserts that
 * the 102 entries of API version 1 (indices 0..101) never change. Every
 * entry used here lies in that first block, so version 1 is requested and
 * any ORT from 1.0 on serves it. Entries not used are opaque placeholders;
 * the _Static_asserts below pin each used entry to its documented index
 * (onnxruntime_c_api.h, struct OrtApi). Private to src/runtime/. */
#ifndef TD_ORT_API_H
#define TD_ORT_API_H

#include <stddef.h>
#include <stdint.h>

#define TD_ORT_API_VERSION 1u

typedef struct OrtEnv OrtEnv;
typedef struct OrtStatus OrtStatus;     /* NULL means success */
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtSession OrtSession;
typedef struct OrtValue OrtValue;
typedef struct OrtRunOptions OrtRunOptions;
typedef struct OrtTypeInfo OrtTypeInfo;
typedef struct OrtTensorTypeAndShapeInfo OrtTensorTypeAndShapeInfo;
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtAllocator OrtAllocator;

/* Enumerations, values as documented. */
enum { TD_ORT_LOG_WARNING = 2, TD_ORT_LOG_ERROR = 3 };
enum { TD_ORT_OPT_NONE = 0, TD_ORT_OPT_BASIC = 1, TD_ORT_OPT_EXTENDED = 2,
       TD_ORT_OPT_ALL = 99 };
enum { TD_ORT_DEVICE_ALLOCATOR = 0 };
enum { TD_ORT_MEM_DEFAULT = 0 };
enum { TD_ORT_TYPE_TENSOR = 1 };

typedef void (*td_ort_log_fn)(void *param, int severity, const char *category,
                              const char *logid, const char *code_location,
                              const char *message);

#define TD_ORT_GAP(from, to) void *gap_##from##_##to[(to) - (from) + 1]

typedef struct td_ort_api {
    TD_ORT_GAP(0, 1);
    const char *(*GetErrorMessage)(const OrtStatus *status);              /* 2 */
    void *gap_3;
    OrtStatus *(*CreateEnvWithCustomLogger)(td_ort_log_fn fn, void *param,
                                            int severity, const char *logid,
                                            OrtEnv **out);               /* 4 */
    void *gap_5;
    OrtStatus *(*DisableTelemetryEvents)(const OrtEnv *env);             /* 6 */
    OrtStatus *(*CreateSession)(const OrtEnv *env, const char *path,
                                const OrtSessionOptions *opts,
                                OrtSession **out);                       /* 7 */
    OrtStatus *(*CreateSessionFromArray)(const OrtEnv *env, const void *data,
                                         size_t len,
                                         const OrtSessionOptions *opts,
                                         OrtSession **out);              /* 8 */
    OrtStatus *(*Run)(OrtSession *s, const OrtRunOptions *ro,
                      const char *const *in_names,
                      const OrtValue *const *inputs, size_t n_in,
                      const char *const *out_names, size_t n_out,
                      OrtValue **outputs);                               /* 9 */
    OrtStatus *(*CreateSessionOptions)(OrtSessionOptions **out);         /* 10 */
    TD_ORT_GAP(11, 16);
    OrtStatus *(*DisableMemPattern)(OrtSessionOptions *o);               /* 17 */
    TD_ORT_GAP(18, 22);
    OrtStatus *(*SetSessionGraphOptimizationLevel)(OrtSessionOptions *o,
                                                   int level);           /* 23 */
    OrtStatus *(*SetIntraOpNumThreads)(OrtSessionOptions *o, int n);     /* 24 */
    TD_ORT_GAP(25, 29);
    OrtStatus *(*SessionGetInputCount)(const OrtSession *s, size_t *out);  /* 30 */
    OrtStatus *(*SessionGetOutputCount)(const OrtSession *s, size_t *out); /* 31 */
    void *gap_32;
    OrtStatus *(*SessionGetInputTypeInfo)(const OrtSession *s, size_t i,
                                          OrtTypeInfo **out);            /* 33 */
    OrtStatus *(*SessionGetOutputTypeInfo)(const OrtSession *s, size_t i,
                                           OrtTypeInfo **out);           /* 34 */
    void *gap_35;
    OrtStatus *(*SessionGetInputName)(const OrtSession *s, size_t i,
                                      OrtAllocator *a, char **out);      /* 36 */
    OrtStatus *(*SessionGetOutputName)(const OrtSession *s, size_t i,
                                       OrtAllocator *a, char **out);     /* 37 */
    TD_ORT_GAP(38, 48);
    OrtStatus *(*CreateTensorWithDataAsOrtValue)(
        const OrtMemoryInfo *info, void *data, size_t len,
        const int64_t *shape, size_t ndim, int dtype, OrtValue **out);   /* 49 */
    OrtStatus *(*IsTensor)(const OrtValue *v, int *out);                 /* 50 */
    OrtStatus *(*GetTensorMutableData)(OrtValue *v, void **out);         /* 51 */
    TD_ORT_GAP(52, 54);
    OrtStatus *(*CastTypeInfoToTensorInfo)(
        const OrtTypeInfo *t, const OrtTensorTypeAndShapeInfo **out);    /* 55 */
    OrtStatus *(*GetOnnxTypeFromTypeInfo)(const OrtTypeInfo *t, int *out); /* 56 */
    TD_ORT_GAP(57, 59);
    OrtStatus *(*GetTensorElementType)(const OrtTensorTypeAndShapeInfo *t,
                                       int *out);                        /* 60 */
    OrtStatus *(*GetDimensionsCount)(const OrtTensorTypeAndShapeInfo *t,
                                     size_t *out);                       /* 61 */
    OrtStatus *(*GetDimensions)(const OrtTensorTypeAndShapeInfo *t,
                                int64_t *dims, size_t n);                /* 62 */
    OrtStatus *(*GetSymbolicDimensions)(const OrtTensorTypeAndShapeInfo *t,
                                        const char **names, size_t n);   /* 63 */
    void *gap_64;
    OrtStatus *(*GetTensorTypeAndShape)(const OrtValue *v,
                                        OrtTensorTypeAndShapeInfo **out); /* 65 */
    TD_ORT_GAP(66, 68);
    OrtStatus *(*CreateCpuMemoryInfo)(int alloc_type, int mem_type,
                                      OrtMemoryInfo **out);              /* 69 */
    TD_ORT_GAP(70, 75);
    OrtStatus *(*AllocatorFree)(OrtAllocator *a, void *p);               /* 76 */
    void *gap_77;
    OrtStatus *(*GetAllocatorWithDefaultOptions)(OrtAllocator **out);    /* 78 */
    TD_ORT_GAP(79, 91);
    void (*ReleaseEnv)(OrtEnv *p);                                       /* 92 */
    void (*ReleaseStatus)(OrtStatus *p);                                 /* 93 */
    void (*ReleaseMemoryInfo)(OrtMemoryInfo *p);                         /* 94 */
    void (*ReleaseSession)(OrtSession *p);                               /* 95 */
    void (*ReleaseValue)(OrtValue *p);                                   /* 96 */
    void *gap_97;
    void (*ReleaseTypeInfo)(OrtTypeInfo *p);                             /* 98 */
    void (*ReleaseTensorTypeAndShapeInfo)(OrtTensorTypeAndShapeInfo *p); /* 99 */
    void (*ReleaseSessionOptions)(OrtSessionOptions *p);                 /* 100 */
} td_ort_api;

typedef struct td_ort_api_base {
    const td_ort_api *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
} td_ort_api_base;

typedef const td_ort_api_base *(*td_ort_get_api_base_fn)(void);

#define TD_ORT_AT(member, index)                                              \
    _Static_assert(offsetof(td_ort_api, member) == (index) * sizeof(void *), \
                   "OrtApi index of " #member)
TD_ORT_AT(GetErrorMessage, 2);
TD_ORT_AT(CreateEnvWithCustomLogger, 4);
TD_ORT_AT(DisableTelemetryEvents, 6);
TD_ORT_AT(CreateSession, 7);
TD_ORT_AT(Run, 9);
TD_ORT_AT(DisableMemPattern, 17);
TD_ORT_AT(CreateSessionOptions, 10);
TD_ORT_AT(SetSessionGraphOptimizationLevel, 23);
TD_ORT_AT(SetIntraOpNumThreads, 24);
TD_ORT_AT(SessionGetInputCount, 30);
TD_ORT_AT(SessionGetInputTypeInfo, 33);
TD_ORT_AT(SessionGetInputName, 36);
TD_ORT_AT(SessionGetOutputName, 37);
TD_ORT_AT(CreateTensorWithDataAsOrtValue, 49);
TD_ORT_AT(GetTensorMutableData, 51);
TD_ORT_AT(CastTypeInfoToTensorInfo, 55);
TD_ORT_AT(GetTensorElementType, 60);
TD_ORT_AT(GetSymbolicDimensions, 63);
TD_ORT_AT(GetTensorTypeAndShape, 65);
TD_ORT_AT(CreateCpuMemoryInfo, 69);
TD_ORT_AT(AllocatorFree, 76);
TD_ORT_AT(GetAllocatorWithDefaultOptions, 78);
TD_ORT_AT(ReleaseEnv, 92);
TD_ORT_AT(ReleaseValue, 96);
TD_ORT_AT(ReleaseTypeInfo, 98);
TD_ORT_AT(ReleaseSessionOptions, 100);

#endif
