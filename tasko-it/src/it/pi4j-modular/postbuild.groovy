// The build passing is not enough: the test must have run, with the test kits, and passed, with
// the program and tasko's modules on the module path.
def report = new File(basedir, 'target/surefire-reports/TEST-example.sensor.SensorReaderTest.xml')
assert report.isFile() : "no test report: the consumer's test did not run"
def suite = new groovy.xml.XmlSlurper().parse(report)
assert suite.@tests.toInteger() > 0 : "no test ran"
assert suite.@failures.toInteger() == 0 && suite.@errors.toInteger() == 0
def modulePath = suite.properties.property.find { it.@name == 'jdk.module.path' }.@value.toString()
assert modulePath.contains('tasko-pi4j-') && modulePath.contains('tasko-core-') :
    "tasko's jars were not on the module path: ${modulePath}"
return true
