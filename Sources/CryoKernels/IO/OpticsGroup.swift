/// One optics group as RELION describes it: the microscope settings and the pixel and box of its images
/// as they are in the files (before any resampling on read).
public struct OpticsGroup: Equatable, Sendable {
    /// RELION's `rlnOpticsGroup` number and `rlnOpticsGroupName`.
    public var number: Int
    public var name: String
    /// Pixel size (Å) and box side (pixels) of the group's images in their stacks; box 0 when unknown.
    public var pixel: Float
    public var size: Int
    /// Acceleration voltage (kV), spherical aberration (mm), amplitude contrast fraction.
    public var voltage: Double
    public var sphericalAberration: Double
    public var amplitudeContrast: Double
    /// The group's CTF terms beyond these (RELION 3.1+'s aberrations and magnification, what was done to the images).
    public var terms = OpticsTerms()

    public init(number: Int, name: String, pixel: Float, size: Int, voltage: Double, sphericalAberration: Double, amplitudeContrast: Double) {
        self.number = number
        self.name = name
        self.pixel = pixel
        self.size = size
        self.voltage = voltage
        self.sphericalAberration = sphericalAberration
        self.amplitudeContrast = amplitudeContrast
    }

    /// One group per distinct (voltage, Cs, amplitude contrast) of `ctf`, all at `pixel` and `size`, and the
    /// group index of every image: how datasets made in memory (simulations) are described.
    public static func grouping(_ ctf: [CTFParameters], pixel: Float, size: Int) -> (groups: [OpticsGroup], groupOf: [Int]) {
        var groups: [OpticsGroup] = [], groupOf: [Int] = []
        for c in ctf {
            if let g = groups.firstIndex(where: { $0.voltage == c.voltage && $0.sphericalAberration == c.sphericalAberration && $0.amplitudeContrast == c.amplitudeContrast }) {
                groupOf.append(g)
            } else {
                groups.append(OpticsGroup(number: groups.count + 1, name: "opticsGroup\(groups.count + 1)", pixel: pixel, size: size,
                                          voltage: c.voltage, sphericalAberration: c.sphericalAberration, amplitudeContrast: c.amplitudeContrast))
                groupOf.append(groups.count - 1)
            }
        }
        return (groups, groupOf)
    }
}
