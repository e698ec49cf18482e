// The README's example: a softmax regression trained by hand with Ember's autograd.
import Ember

manualSeed(0)
let x = Tensor.randn([64, 784])                    // a batch of inputs
var w = (Tensor.randn([784, 10]) * 0.01).requiresGrad(true)
var b = Tensor.zeros([10], requiresGrad: true)
let labels = Tensor.randint(0, 10, [64])

for step in 0..<5 {
    let logits = x.matmul(w) + b                    // broadcasting add
    let logProbs = logSoftmax(logits, dim: 1)
    let loss = -logProbs.gather(dim: 1, index: labels.unsqueeze(1)).mean()
    w.grad = nil; b.grad = nil
    loss.backward()                                 // fills w.grad and b.grad
    noGrad {                                        // plain SGD step, not recorded
        w -= w.grad! * 0.1
        b -= b.grad! * 0.1
    }
    print("step \(step): loss \(loss.item(Float.self))")
}

// Higher-order gradients: d²/dx² of x³ at x = 2 is 12.
let t = Tensor(2.0, requiresGrad: true)
let dy = grad(of: [t * t * t], with: [t], createGraph: true)[0]!
let d2y = grad(of: [dy], with: [t])[0]!
print("d/dx x³ = \(dy.item(Double.self)), d²/dx² x³ = \(d2y.item(Double.self))")
print(b)
print(Tensor.arange(0, 6, dtype: .float32).reshape([2, 3]))
