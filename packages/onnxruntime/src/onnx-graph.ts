import onnxProto from 'onnx-proto';

/** The protobufjs-generated ONNX namespace from onnx-proto (a CommonJS module). */
export const onnx = onnxProto.onnx;

/** ONNX opset this backend generates; 17 has ScatterElements(reduction=add), LayerNorm-era ops and ReduceSum with axes as input. */
export const OPSET_VERSION = 17;
/** IR version matching opset 17 (ONNX 1.12+; onnx-proto's schema is IR 8). */
export const IR_VERSION = 8;

/**
 * One axis of a tensor shape: a size, `'N'` for the dynamic batch axis, or
 * `'N*k'` for the batch axis merged with k elements (a flattened tensor).
 */
export type Dim = number | 'N' | `N*${number}`;

/** A node attribute, tagged with its ONNX type. */
export type Attribute =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string };

/** An int attribute. */
export const intAttr = (value: number): Attribute => ({ kind: 'int', value });
/** An ints attribute. */
export const intsAttr = (value: readonly number[]): Attribute => ({ kind: 'ints', value });
/** A float attribute. */
export const floatAttr = (value: number): Attribute => ({ kind: 'float', value });
/** A string attribute. */
export const stringAttr = (value: string): Attribute => ({ kind: 'string', value });

/** A node as recorded by {@link OnnxGraphBuilder}, before encoding. */
export interface BuiltNode {
  readonly name: string;
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, Attribute>>;
  /** The operator set domain (absent: the default ONNX domain). */
  readonly domain?: string;
}

/** A constant tensor (initializer) as recorded by {@link OnnxGraphBuilder}. */
export interface BuiltInitializer {
  readonly name: string;
  readonly type: 'float32' | 'int64';
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

/** A graph input or output with its declared shape. */
export interface BuiltValue {
  readonly name: string;
  readonly type: 'float32' | 'int64';
  readonly shape: readonly Dim[];
}

/**
 * Builds one ONNX graph: nodes in topological order, constants, inputs and
 * outputs, and the shape the generator expects for every value (used by
 * {@link checkBuiltGraph}). Encoding goes through onnx-proto.
 */
export class OnnxGraphBuilder {
  readonly nodes: BuiltNode[] = [];
  readonly initializers: BuiltInitializer[] = [];
  readonly inputs: BuiltValue[] = [];
  readonly outputs: BuiltValue[] = [];
  /** Expected shape of every value, keyed by value name. */
  readonly shapes = new Map<string, readonly Dim[]>();
  private counter = 0;
  /** Names {@link fresh} must not give: values named from outside (a layer's reuse is `layer:k`, a generated name's shape). */
  private readonly reserved = new Set<string>();
  private readonly constantCache = new Map<string, string>();

  /** A value name not used before, derived from `hint`. */
  fresh(hint: string): string {
    let name: string;
    do name = `${hint}:${this.counter++}`;
    while (this.reserved.has(name));
    return name;
  }

  /** Keeps {@link fresh} from ever giving `name` (to be declared later, e.g. an output named after a graph value). */
  reserve(name: string): void {
    this.reserved.add(name);
  }

  /** Declares a float32 graph input. */
  input(name: string, shape: readonly Dim[]): string {
    this.inputs.push({ name, type: 'float32', shape });
    this.shapes.set(name, shape);
    return name;
  }

  /** Declares a graph output (the value must be produced by a node, an input or an initializer). */
  output(name: string): void {
    const shape = this.shapeOf(name);
    this.outputs.push({ name, type: 'float32', shape });
  }

  /** The expected shape of a value. */
  shapeOf(name: string): readonly Dim[] {
    const s = this.shapes.get(name);
    if (!s) throw new Error(`onnx graph: no shape recorded for value ${name}`);
    return s;
  }

  /** Adds a float32 constant. */
  floatConstant(hint: string, dims: readonly number[], data: Float32Array): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, type: 'float32', dims: [...dims], data });
    this.shapes.set(name, dims);
    return name;
  }

  /** A float32 scalar constant, shared between uses of the same value. */
  scalar(value: number): string {
    const key = `f:${value}`;
    let name = this.constantCache.get(key);
    if (!name) {
      name = this.floatConstant('const', [], Float32Array.of(value));
      this.constantCache.set(key, name);
    }
    return name;
  }

  /** A 1-D int64 constant (shapes, axes, slice bounds), shared between equal uses. */
  ints(values: readonly number[]): string {
    const key = `i:${values.join(',')}`;
    let name = this.constantCache.get(key);
    if (!name) {
      name = this.fresh('ints');
      this.initializers.push({ name, type: 'int64', dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
      this.shapes.set(name, [values.length]);
      this.constantCache.set(key, name);
    }
    return name;
  }

  /**
   * Appends a node with one output whose expected shape is `shape`; returns
   * the output's name.
   */
  op(opType: string, inputs: readonly string[], shape: readonly Dim[], attributes: Record<string, Attribute> = {}, hint = opType): string {
    return this.opMulti(opType, inputs, [shape], attributes, hint)[0];
  }

  /** Appends a node with several outputs; returns their names. */
  opMulti(opType: string, inputs: readonly string[], shapes: readonly (readonly Dim[])[], attributes: Record<string, Attribute> = {}, hint = opType): string[] {
    const outputs = shapes.map((s) => {
      const name = this.fresh(hint);
      this.shapes.set(name, s);
      return name;
    });
    this.nodes.push({ name: this.fresh(`node/${opType}/${hint}`), opType, inputs: [...inputs], outputs, attributes });
    return outputs;
  }

  /** Appends an Identity node whose output has a chosen name (for graph outputs). */
  rename(value: string, name: string): string {
    this.shapes.set(name, this.shapeOf(value));
    this.nodes.push({ name: this.fresh('node/Identity'), opType: 'Identity', inputs: [value], outputs: [name], attributes: {} });
    return name;
  }

  /** Encodes the graph as an ONNX model (protobuf bytes). */
  encode(graphName: string): Uint8Array {
    return onnx.ModelProto.encode(this.toModelProto(graphName)).finish();
  }

  /** The graph as an onnx-proto ModelProto. */
  toModelProto(graphName: string): InstanceType<typeof onnx.ModelProto> {
    const valueInfo = (v: BuiltValue) => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: v.type === 'float32' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
          shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
    const domains = [...new Set(this.nodes.flatMap((n) => (n.domain ? [n.domain] : [])))].sort();
    return onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: '@araboza/onnxruntime',
      opsetImport: [{ domain: '', version: OPSET_VERSION }, ...domains.map((domain) => ({ domain, version: 1 }))],
      graph: {
        name: graphName,
        node: this.nodes.map((n) => ({
          name: n.name,
          opType: n.opType,
          ...(n.domain ? { domain: n.domain } : {}),
          input: [...n.inputs],
          output: [...n.outputs],
          attribute: Object.entries(n.attributes).map(([name, a]) => encodeAttribute(name, a)),
        })),
        initializer: this.initializers.map((t) => ({
          name: t.name,
          dims: [...t.dims],
          dataType: t.type === 'float32' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
          // raw_data is little-endian, as typed arrays are on every platform Node supports.
          rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        })),
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    });
  }
}

function encodeAttribute(name: string, a: Attribute) {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}
