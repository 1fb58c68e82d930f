export {
  PROTOCOL_DATATYPES,
  elementCount,
  type Datatype,
  type Tensor,
  type TensorData,
  type TensorMetadata,
} from './tensor.js';
export {
  DATATYPES,
  TensorCodecError,
  decodeContents,
  decodeRaw,
  encodeRaw,
  isDatatype,
  numberAt,
  zeroData,
} from './codec.js';
