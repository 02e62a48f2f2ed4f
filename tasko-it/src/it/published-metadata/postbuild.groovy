// Every jar Maven Central gets for a published module (the classes, the sources, the Javadoc)
// carries the project's LICENSE and NOTICE in META-INF, word for word the files at the root of
// the repository: the Apache License asks that both travel with every copy. The published
// modules are the ones the BOM names; invoker:install put their jars in the local repository.
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
