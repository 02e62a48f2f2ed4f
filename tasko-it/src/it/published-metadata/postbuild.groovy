// Every jar Maven Central gets for a published module (the classes, the sources, the Javadoc)
// carries the project's LICENSE and NOTICE in META-INF, word for word the files at the root of
// the repository: the Apache License asks that both travel with every copy. The published
// modules are the ones the BOM names; invoker:install put their jars in the local repository.
// And no published POM names an artifact of this project that is never published.
import java.util.zip.ZipFile

def repo = localRepositoryPath
def bom = new File(repo, "dev/tasko/tasko-bom/${taskoVersion}/tasko-bom-${taskoVersion}.pom")
assert bom.isFile() : "no BOM in the consumers' repository: ${bom}"
def modules = new groovy.xml.XmlSlurper().parse(bom)
    .dependencyManagement.dependencies.dependency.artifactId*.text()
assert !modules.isEmpty() : "the BOM names no module: ${bom}"

// The BOM names every jar module the release uploads: those of the root POM that its release
// profile does not leave out of the bundle.
def root = new groovy.xml.XmlSlurper().parse(new File(taskoRoot, 'pom.xml'))
def leftOut = root.profiles.profile.find { it.id == 'release' }.build.plugins.plugin
    .find { it.artifactId == 'central-publishing-maven-plugin' }
    .configuration.excludeArtifacts.artifact*.text()
def published = root.modules.module*.text().findAll { module ->
  def packaging = new groovy.xml.XmlSlurper().parse(new File(taskoRoot, "${module}/pom.xml"))
      .packaging.text()
  !(module in leftOut) && packaging != 'pom'
}
assert published.toSet() == modules.toSet() :
    "the BOM names ${modules}, the release uploads the jars of ${published}"

// No published POM names an artifact of this project that is not published: a tool that
// resolves every dependency a POM names (a release checker, a build from the published POM,
// test scope included) would fail on it. Each POM is read as invoker:install put it, which is
// what the release uploads. Artifacts of other projects are theirs to publish.
def uploaded = (modules + ['tasko-bom', 'tasko-parent']).toSet()
def unpublishedNamed = []
for (artifact in uploaded) {
  def pomFile = new File(repo, "dev/tasko/${artifact}/${taskoVersion}/${artifact}-${taskoVersion}.pom")
  assert pomFile.isFile() : "no POM of ${artifact} in the consumers' repository: ${pomFile}"
  def pom = new groovy.xml.XmlSlurper().parse(pomFile)
  def named = [pom.parent] + pom.dependencies.dependency.list() +
      pom.dependencyManagement.dependencies.dependency.list() +
      pom.profiles.profile.dependencies.dependency.list() +
      pom.profiles.profile.dependencyManagement.dependencies.dependency.list()
  for (ref in named) {
    def groupId = ref.groupId.text()
    if ((groupId == 'dev.tasko' || groupId == '${project.groupId}')
        && !ref.artifactId.text().isEmpty() && !(ref.artifactId.text() in uploaded)) {
      def scope = ref.scope.text()
      unpublishedNamed << "${pomFile.name} names dev.tasko:${ref.artifactId.text()}" +
          (scope ? " (scope ${scope})" : '')
    }
  }
}
// The published POMs of the jar modules are flattened (no parent): each says itself where the
// project lives, and says what the root POM says.
def wrongAddress = []
for (module in modules) {
  def pom = new groovy.xml.XmlSlurper().parse(
      new File(repo, "dev/tasko/${module}/${taskoVersion}/${module}-${taskoVersion}.pom"))
  def expected = [url: root.url.text(), 'scm url': root.scm.url.text(),
      'scm connection': root.scm.connection.text(),
      'scm developerConnection': root.scm.developerConnection.text()]
  def actual = [url: pom.url.text(), 'scm url': pom.scm.url.text(),
      'scm connection': pom.scm.connection.text(),
      'scm developerConnection': pom.scm.developerConnection.text()]
  expected.each { what, value ->
    if (actual[what] != value) {
      wrongAddress << "${module}: ${what} '${actual[what]}', not '${value}'"
    }
  }
}
assert wrongAddress.isEmpty() : "published POMs point elsewhere:\n  " + wrongAddress.join('\n  ')
assert unpublishedNamed.isEmpty() :
    "published POMs name artifacts that are never published (${uploaded.sort()} are):\n  " +
    unpublishedNamed.join('\n  ')

def problems = []
for (module in modules) {
  for (suffix in ['', '-sources', '-javadoc']) {
    def jar = new File(repo, "dev/tasko/${module}/${taskoVersion}/${module}-${taskoVersion}${suffix}.jar")
    if (!jar.isFile()) {
      problems << "${jar.name}: not in the consumers' repository"
      continue
    }
    new ZipFile(jar).withCloseable { zip ->
      for (name in ['LICENSE', 'NOTICE']) {
        def entry = zip.getEntry("META-INF/${name}")
        if (entry == null) {
          problems << "${jar.name}: no META-INF/${name}"
        } else if (zip.getInputStream(entry).text != new File(taskoRoot, name).text) {
          problems << "${jar.name}: META-INF/${name} is not the repository's ${name}"
        }
      }
    }
  }
}
assert problems.isEmpty() : "published jars without the license files:\n  " + problems.join('\n  ')
return true
