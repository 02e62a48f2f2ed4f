// The build passing is not enough: the test must have run, with the test kit, and passed.
def report = new File(basedir, 'target/surefire-reports/TEST-example.sensor.SensorReaderTest.xml')
assert report.isFile() : "no test report: the consumer's test did not run"
def suite = new groovy.xml.XmlSlurper().parse(report)
assert suite.@tests.toInteger() > 0 : "no test ran"
assert suite.@failures.toInteger() == 0 && suite.@errors.toInteger() == 0
return true
