import Ember

let x = Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
x.requiresGrad = true
let w = Tensor([0.5, -1, 2, 0.25] as [Float], shape: [2, 2], requiresGrad: true)
let y = tanh(x.matmul(w)).sum()
y.backward()
print(y.item(Float.self))
print(x.grad!.asArray(Float.self), w.grad!.asArray(Float.self))
let s = softmax(x, dim: -1)
print(s.asArray(Float.self))
let big = Tensor.randn([1000])
print(big.sum().item(Float.self))
