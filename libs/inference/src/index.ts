export { loadOnnxModel, type OnnxModel, type OnnxModelOptions } from './onnx-model.js';
