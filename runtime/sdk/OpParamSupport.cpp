//===- OpParamSupport.cpp - cvi::OpParam for code built without RTTI ------===//
//
// cvi::OpParam reads values back with dynamic_cast (the vendor runtime's binary interface, see
// cvi/OpParam.h). The tools' MLIR-facing code is compiled with -fno-rtti, so there the header only
// declares cvi::detail::makeField<T> and fieldData<T>; this file, compiled with RTTI, provides
// them for every value type, so that the Field<T> objects such code creates carry full type
// information for the plugins that read them.
//
//===----------------------------------------------------------------------===//

#include "cvi/OpParam.h"

#if !defined(__GXX_RTTI)
#error "OpParamSupport.cpp must be compiled with RTTI"
#endif

namespace cvi::detail {

#define TPUC_OP_PARAM_TYPE(T)                                                                      \
  template std::shared_ptr<FieldBase> makeField<T>(T);                                             \
  template T *fieldData<T>(FieldBase *);

TPUC_OP_PARAM_TYPE(int8_t)
TPUC_OP_PARAM_TYPE(int32_t)
TPUC_OP_PARAM_TYPE(float)
TPUC_OP_PARAM_TYPE(bool)
TPUC_OP_PARAM_TYPE(std::string)
TPUC_OP_PARAM_TYPE(std::vector<int8_t>)
TPUC_OP_PARAM_TYPE(std::vector<int32_t>)
TPUC_OP_PARAM_TYPE(std::vector<float>)
TPUC_OP_PARAM_TYPE(std::vector<bool>)
TPUC_OP_PARAM_TYPE(std::vector<std::string>)

#undef TPUC_OP_PARAM_TYPE

// Every value type of OpParam::Value is instantiated above.
static_assert(std::variant_size_v<OpParam::Value> == 10);

} // namespace cvi::detail
