// A unary gRPC method with raw bytes in and out: no protobuf, nothing generated.
const identity = (value) => value;

export const echoService = {
  echo: {
    path: '/scoregate.testing.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
